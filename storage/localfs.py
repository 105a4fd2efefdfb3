"""Blocking file operations behind LocalBlobStore (callers run them in worker threads).

A write goes to a hidden temporary file beside its target ('.<name>.<random>.tmp', a name no
valid key can have), is flushed to disk, then renamed over the target in one atomic step.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

HASH_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class FileIdentity:
    """What changes whenever a file is replaced or rewritten."""

    device: int
    inode: int
    size: int
    modified_ns: int

    @classmethod
    def of(cls, result: os.stat_result) -> FileIdentity:
        return cls(result.st_dev, result.st_ino, result.st_size, result.st_mtime_ns)


@dataclass
class PendingFile:
    """A temporary file being written, with the hash of what was written so far."""

    target: Path
    temp: Path
    handle: BinaryIO
    digest: hashlib._Hash
    size: int = 0

    def write(self, chunk: bytes) -> None:
        self.handle.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)


def begin_write(target: Path) -> PendingFile:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    return PendingFile(target, temp, temp.open("xb"), hashlib.sha256())


def commit(pending: PendingFile) -> os.stat_result:
    """Make the written content durable and visible under the target name."""
    with pending.handle:
        pending.handle.flush()
        os.fsync(pending.handle.fileno())
    os.replace(pending.temp, pending.target)
    return pending.target.stat()


def discard(pending: PendingFile) -> None:
    pending.handle.close()
    pending.temp.unlink(missing_ok=True)


def write_whole(target: Path, data: bytes, sha256: str | None = None) -> tuple[os.stat_result, str]:
    """Write `data` durably under `target`; its SHA-256 (hex) with the file's stat. A known
    `sha256` is handed back as it is, the data not hashed again."""
    pending = begin_write(target)
    try:
        if sha256 is None:
            pending.write(data)
            sha256 = pending.digest.hexdigest()
        else:
            pending.handle.write(data)
        return commit(pending), sha256
    except BaseException:
        discard(pending)
        raise


def regular_file_stat(path: Path) -> os.stat_result | None:
    try:
        result = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return result if stat.S_ISREG(result.st_mode) else None


def hash_file(path: Path) -> tuple[FileIdentity, str] | None:
    """The identity and SHA-256 of one consistent version of the file (read through one handle)."""
    opened = open_version(path)
    if opened is None:
        return None
    handle, identity = opened
    with handle:
        return identity, hash_open_file(handle)


def open_version(path: Path) -> tuple[io.BufferedReader, FileIdentity] | None:
    """The regular file at `path` opened for reading, with the identity of the version opened;
    None when there is none."""
    try:
        handle = path.open("rb")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    result = os.fstat(handle.fileno())
    if not stat.S_ISREG(result.st_mode):
        handle.close()
        return None
    return handle, FileIdentity.of(result)


def hash_open_file(handle: io.BufferedReader) -> str:
    """The SHA-256 of the whole open file, leaving it positioned at its start."""
    handle.seek(0)
    digest = hashlib.file_digest(handle, "sha256")
    handle.seek(0)
    return digest.hexdigest()


def remove_file(path: Path) -> None:
    """Remove the file if there is one; a missing file or a folder is not a blob, so no change."""
    try:
        path.unlink(missing_ok=True)
    except (IsADirectoryError, NotADirectoryError):
        return


def is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def remove_stale_temporaries(root: Path, prefix: str, before_ns: int) -> int:
    """Remove the temporary files of writes to keys starting with `prefix` last written before
    `before_ns` (nanoseconds since the epoch); returns how many."""
    folder = prefix.rpartition("/")[0]
    start = root.joinpath(*folder.split("/")) if folder else root
    removed = 0
    for directory, _, names in os.walk(start):
        relative = Path(directory).relative_to(root).as_posix()
        for name in filter(is_temporary, names):
            target = name[1:].rsplit(".", 2)[0]  # '.<name>.<random>.tmp'
            key = target if relative == "." else f"{relative}/{target}"
            path = Path(directory) / name
            result = regular_file_stat(path)
            if key.startswith(prefix) and result is not None and result.st_mtime_ns < before_ns:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def listed_files(root: Path, prefix: str) -> list[tuple[str, os.stat_result]]:
    """(key, stat) of every regular file under `root` whose key starts with `prefix`; hidden
    files (temporary files of writes in progress) are not blobs and are left out."""
    folder = prefix.rpartition("/")[0]
    start = root.joinpath(*folder.split("/")) if folder else root
    found: list[tuple[str, os.stat_result]] = []
    for directory, subfolders, names in os.walk(start):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        relative = Path(directory).relative_to(root).as_posix()
        for name in names:
            key = name if relative == "." else f"{relative}/{name}"
            if name.startswith(".") or not key.startswith(prefix):
                continue
            result = regular_file_stat(Path(directory) / name)
            if result is not None:
                found.append((key, result))
    return found
