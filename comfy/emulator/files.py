"""The emulated server's input/, output/ and temp/ folders. Blocking: call from a thread."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path

FOLDER_TYPES = ("input", "output", "temp")
ANNOTATION = re.compile(r"^(?P<name>.*) \[(?P<kind>input|output|temp)\]$")


class UnknownFolderType(Exception):
    """An upload named a folder type ComfyUI does not know (it answers 500)."""


@dataclass(frozen=True)
class Upload:
    name: str
    subfolder: str
    kind: str


@dataclass(frozen=True)
class SaveTarget:
    folder: Path
    filename: str
    counter: int
    subfolder: str


class FileStore:
    def __init__(self, root: Path, overrides: dict[str, Path] | None = None) -> None:
        self.root = Path(os.path.abspath(root))
        self._folders = {kind: self.root / kind for kind in FOLDER_TYPES}
        for kind, folder in (overrides or {}).items():
            self._folders[kind] = Path(os.path.abspath(folder))

    def prepare(self) -> None:
        for folder in self._folders.values():
            folder.mkdir(parents=True, exist_ok=True)

    def folder(self, kind: str) -> Path:
        if kind not in FOLDER_TYPES:
            raise UnknownFolderType(kind)
        return self._folders[kind]

    def input_images(self) -> list[str]:
        folder = self.folder("input")
        names = [entry.name for entry in folder.iterdir() if entry.is_file()]
        return sorted(name for name in names if _is_image_name(name))

    def annotated(self, name: str, default_kind: str = "input") -> Path | None:
        match = ANNOTATION.match(name)
        kind, bare = (match["kind"], match["name"]) if match else (default_kind, name)
        return self.inside(self.folder(kind), bare)

    def exists_annotated(self, name: str) -> bool:
        path = self.annotated(name)
        return path is not None and path.is_file()

    def store_upload(
        self, content: bytes, filename: str, subfolder: str, kind: str | None, overwrite: bool
    ) -> Upload | None:
        """Save like ComfyUI: same name and bytes reuse the name, other bytes get `name (1).png`."""
        kind = kind or "input"
        folder = self.inside(self.folder(kind), subfolder or ".")
        target = None if folder is None else self.inside(folder, filename)
        if folder is None or target is None or not filename:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        name = filename if overwrite else _free_name(folder, filename, content)
        if not (folder / name).exists() or overwrite:
            (folder / name).write_bytes(content)
        return Upload(name=name, subfolder=subfolder, kind=kind)

    def save_target(self, prefix: str) -> SaveTarget:
        output = self.folder("output")
        normalised = os.path.normpath(prefix)
        subfolder, filename = os.path.dirname(normalised), os.path.basename(normalised)
        folder = self.inside(output, subfolder or ".")
        if folder is None:
            raise ValueError("Saving image outside the output folder is not allowed.")
        folder.mkdir(parents=True, exist_ok=True)
        return SaveTarget(folder, filename, _next_counter(folder, filename), subfolder)

    @staticmethod
    def inside(base: Path, relative: str) -> Path | None:
        """`base/relative`, or None when that would leave `base`."""
        candidate = Path(os.path.abspath(base / relative))
        if os.path.commonpath((base, candidate)) != str(base):
            return None
        return candidate


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_image_name(name: str) -> bool:
    kind, _ = mimetypes.guess_type(name)
    return kind is not None and kind.startswith("image/")


def _free_name(folder: Path, filename: str, content: bytes) -> str:
    stem, extension = os.path.splitext(filename)
    name, attempt = filename, 1
    while (folder / name).exists():
        if (folder / name).read_bytes() == content:
            return name
        name = f"{stem} ({attempt}){extension}"
        attempt += 1
    return name


def _next_counter(folder: Path, filename: str) -> int:
    pattern = re.compile(re.escape(filename) + r"_(\d+)_")
    counters = [
        int(match.group(1))
        for entry in folder.iterdir()
        if (match := pattern.match(entry.name)) is not None
    ]
    return max(counters, default=0) + 1
