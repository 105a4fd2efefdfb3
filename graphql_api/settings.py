"""One typed settings object, read from KONTEXT_* environment variables (see README)."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from storage.s3_settings import (
    DEFAULT_PRESIGN_SECONDS,
    DEFAULT_REGION,
    S3Settings,
    check_http_url,
    check_presign_seconds,
)
from tasks import parse_secret

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """An environment variable has a value the service cannot use."""


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _networks(text: str) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(part, strict=False) for part in _csv(text))


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _auth_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("on", "off", "auto"):
        raise ValueError("expected on, off or auto")
    return mode


def _storage_url(text: str) -> str:
    url = text.strip()
    if not url.startswith("s3://"):
        raise ValueError(
            "expected s3://bucket or s3://bucket/prefix (leave it empty for the local folder "
            "KONTEXT_STORAGE_DIR)"
        )
    S3Settings.from_url(url)
    return url


def _http_url(text: str) -> str:
    url = text.strip()
    check_http_url("it", url)
    return url


def _comfyui_urls(text: str) -> tuple[str, ...]:
    urls = _csv(text)
    for url in urls:
        check_http_url("each ComfyUI URL", url)
    return urls


def _presign_seconds(text: str) -> int:
    seconds = int(text)
    check_presign_seconds(seconds)
    return seconds


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("expected a number of seconds above 0")
    return value


def _webhook_secret(text: str) -> str:
    secret = text.strip()
    parse_secret(secret)
    return secret


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

# The default database and image folder live in the user's data folder, so that every command
# (`serve`, `create-key`, ...) finds the same ones from whatever folder it is run.
DATA_HOME = Path("~/.local/share/kontext")
SQLITE_SCHEME = "sqlite://"


def absolute_sqlite_url(url: str, cwd: Path) -> str:
    """A sqlite:// URL whose file path is absolute (`~` expanded, relative paths against cwd);
    other URLs and SQLite's in-memory database unchanged."""
    if not url.startswith(SQLITE_SCHEME):
        return url
    path = url.removeprefix(SQLITE_SCHEME)
    if path == ":memory:" or not path:
        return url
    return SQLITE_SCHEME + str(absolute_path(Path(path), cwd))


def absolute_path(path: Path, cwd: Path) -> Path:
    expanded = path.expanduser()
    return expanded if expanded.is_absolute() else cwd / expanded


def _setting(
    env: str, default: Any, parse: Callable[[str], Any], doc: str, *, secret: bool = False
) -> Any:
    """A setting read from `env`; a secret one is left out of repr() and of error messages."""
    metadata = {"env": env, "parse": parse, "doc": doc, "secret": secret}
    return field(default=default, repr=not secret, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    database_url: str = _setting(
        "KONTEXT_DATABASE_URL",
        f"{SQLITE_SCHEME}{DATA_HOME}/kontext.sqlite3",
        str,
        "Tortoise database URL: sqlite://path or postgres://user:pass@host:5432/db (a relative "
        "SQLite path is taken from the folder the command starts in)",
    )
    storage_dir: Path = _setting(
        "KONTEXT_STORAGE_DIR",
        DATA_HOME / "files",
        Path,
        "Folder for images (local storage)",
    )
    web_dist: Path = _setting(
        "KONTEXT_WEB_DIST",
        Path("web/dist"),
        Path,
        "Folder of the built web app served at `/` (`npm --prefix web run build` makes it)",
    )
    workflows_dir: Path | None = _setting(
        "KONTEXT_WORKFLOWS_DIR",
        None,
        Path,
        "Folder of your own workflow templates (`<name>.json` + `<name>.bindings.json`), "
        "loaded beside the built-in one",
    )
    storage_url: str = _setting(
        "KONTEXT_STORAGE_URL",
        "",
        _storage_url,
        "Where images go: empty for the local folder `KONTEXT_STORAGE_DIR`, or "
        "`s3://bucket/prefix` for an S3-compatible bucket (the `KONTEXT_S3_*` settings)",
    )
    s3_endpoint_url: str = _setting(
        "KONTEXT_S3_ENDPOINT_URL",
        "",
        _http_url,
        "S3-compatible server (MinIO, R2, Ceph, ...), e.g. `http://minio:9000`; empty: AWS S3",
    )
    s3_region: str = _setting("KONTEXT_S3_REGION", DEFAULT_REGION, str, "Region of the bucket")
    s3_access_key_id: str = _setting(
        "KONTEXT_S3_ACCESS_KEY_ID",
        "",
        str,
        "Access key id; empty (with the secret): the AWS credential chain (env, profile, role)",
    )
    s3_secret_access_key: str = _setting(
        "KONTEXT_S3_SECRET_ACCESS_KEY",
        "",
        str,
        "Secret access key, given with the access key id (never logged)",
        secret=True,
    )
    s3_presign_seconds: int = _setting(
        "KONTEXT_S3_PRESIGN_SECONDS",
        DEFAULT_PRESIGN_SECONDS,
        _presign_seconds,
        "Life of the presigned image URLs (signed anew on every read), 1 to 604800 seconds",
    )
    s3_public_base_url: str = _setting(
        "KONTEXT_S3_PUBLIC_BASE_URL",
        "",
        _http_url,
        "Public base URL of the bucket (a CDN or public bucket): image URLs are it plus "
        "the object key and do not expire; empty: presigned URLs",
    )
    public_url: str = _setting(
        "KONTEXT_PUBLIC_URL",
        "",
        str,
        "Base URL of image links (set it behind a proxy); empty: the URL each request came to",
    )
    host: str = _setting(
        "KONTEXT_HOST", "127.0.0.1", str, "Address `kontext serve` listens on (or `--host`)"
    )
    port: int = _setting("KONTEXT_PORT", 8000, int, "Port `kontext serve` listens on (or `--port`)")
    access_log: bool = _setting(
        "KONTEXT_ACCESS_LOG",
        True,
        _bool,
        "Log one JSON line per HTTP request and websocket (method, path, status, time; never "
        "keys, query strings or image links)",
    )
    comfyui_urls: tuple[str, ...] = _setting(
        "KONTEXT_COMFYUI_URLS",
        (),
        _comfyui_urls,
        "Comma-separated ComfyUI base URLs; empty: start the bundled emulator (images are fake)",
    )
    dispatch: bool = _setting(
        "KONTEXT_DISPATCH",
        True,
        _bool,
        "Run tasks on ComfyUI from this replica; false: serve the API only",
    )
    comfyui_client_id: str = _setting(
        "KONTEXT_COMFYUI_CLIENT_ID",
        "kontext-graphql",
        str,
        "Prefix of the client id each process uses on ComfyUI; host, pid and a random part "
        "are added, so replicas never share one (see `backends { clientId }`)",
    )
    prefer_warm_backends: bool = _setting(
        "KONTEXT_PREFER_WARM_BACKENDS",
        True,
        _bool,
        "Send a task to a backend that ran the same model files last (no model load); "
        "false: to the least-loaded backend that can run it",
    )
    max_attempts: int = _setting(
        "KONTEXT_MAX_ATTEMPTS", 3, int, "Runs of a task before a lost prompt fails it"
    )
    task_timeout_seconds: int = _setting(
        "KONTEXT_TASK_TIMEOUT_SECONDS",
        1800,
        int,
        "Default deadline of a task from acceptance; past it the task fails as TIMED_OUT",
    )
    silence_seconds: float = _setting(
        "KONTEXT_SILENCE_SECONDS",
        120.0,
        float,
        "A task sent to ComfyUI (running or waiting there) with no word for this long is "
        "checked by polling ComfyUI; on a backend no replica tracks any more it is queued again",
    )
    emulator_step_seconds: float = _setting(
        "KONTEXT_EMULATOR_STEP_SECONDS", 0.25, float, "Emulated seconds per sampling step"
    )
    migrate_on_start: bool = _setting(
        "KONTEXT_MIGRATE_ON_START", True, _bool, "Apply database migrations at start-up"
    )
    max_image_bytes: int = _setting(
        "KONTEXT_MAX_IMAGE_BYTES",
        20 * 1024 * 1024,
        int,
        "Largest accepted image file, bytes; an upload up to it is read in memory, not spooled",
    )
    max_image_pixels: int = _setting(
        "KONTEXT_MAX_IMAGE_PIXELS", 50_000_000, int, "Largest accepted image, width x height"
    )
    url_fetch_timeout: float = _setting(
        "KONTEXT_URL_FETCH_TIMEOUT", 15.0, float, "Seconds allowed to fetch an image by URL"
    )
    url_allowed_networks: tuple[IpNetwork, ...] = _setting(
        "KONTEXT_URL_ALLOWED_NETWORKS",
        (),
        _networks,
        "CIDRs exempt from the private-address refusal for image URLs (local setups only)",
    )
    cors_origins: tuple[str, ...] = _setting(
        "KONTEXT_CORS_ORIGINS", (), _csv, "Comma-separated origins allowed to call the API"
    )
    auth: str = _setting(
        "KONTEXT_AUTH",
        "auto",
        _auth_mode,
        "API keys: on, off, or auto (required unless KONTEXT_HOST is a loopback address)",
    )
    introspection: bool = _setting(
        "KONTEXT_INTROSPECTION", True, _bool, "Answer GraphQL introspection queries"
    )
    max_request_bytes: int = _setting(
        "KONTEXT_MAX_REQUEST_BYTES", 64 * 1024 * 1024, int, "Largest accepted HTTP request body"
    )
    submit_rate_per_minute: float = _setting(
        "KONTEXT_SUBMIT_RATE_PER_MINUTE", 60.0, float, "generateImage calls per key per minute"
    )
    submit_burst: int = _setting(
        "KONTEXT_SUBMIT_BURST", 20, int, "generateImage calls a key may make at once"
    )
    max_unfinished_per_owner: int = _setting(
        "KONTEXT_MAX_UNFINISHED_PER_OWNER", 100, int, "Unfinished tasks one key may have"
    )
    max_queue_depth: int = _setting(
        "KONTEXT_MAX_QUEUE_DEPTH", 10_000, int, "Pending tasks in all; beyond it requests wait"
    )
    graphiql: bool = _setting("KONTEXT_GRAPHIQL", True, _bool, "Serve GraphiQL at /graphql")
    max_query_depth: int = _setting(
        "KONTEXT_MAX_QUERY_DEPTH", 12, int, "Deepest GraphQL selection accepted"
    )
    max_query_tokens: int = _setting(
        "KONTEXT_MAX_QUERY_TOKENS", 4000, int, "Most tokens in one GraphQL document"
    )
    max_query_aliases: int = _setting(
        "KONTEXT_MAX_QUERY_ALIASES", 30, int, "Most aliases in one GraphQL document"
    )
    ws_keepalive_seconds: float = _setting(
        "KONTEXT_WS_KEEPALIVE_SECONDS", 15.0, float, "Ping interval on subscription sockets"
    )
    model_unet: str = _setting(
        "KONTEXT_MODEL_UNET", "", str, "Diffusion model file (empty: the template's fp8 default)"
    )
    model_clip_l: str = _setting("KONTEXT_MODEL_CLIP_L", "", str, "CLIP-L text encoder file")
    model_t5: str = _setting("KONTEXT_MODEL_T5", "", str, "T5-XXL text encoder file")
    model_vae: str = _setting("KONTEXT_MODEL_VAE", "", str, "VAE file")
    webhook_secret: str = _setting(
        "KONTEXT_WEBHOOK_SECRET",
        "",
        _webhook_secret,
        "`whsec_<base64>` secret that signs webhooks of owners without their own (setWebhook "
        "makes one per owner); never logged",
        secret=True,
    )
    webhook_timeout_seconds: float = _setting(
        "KONTEXT_WEBHOOK_TIMEOUT_SECONDS",
        10.0,
        _positive,
        "Seconds a webhook receiver has to answer",
    )
    webhook_retry_seconds: float = _setting(
        "KONTEXT_WEBHOOK_RETRY_SECONDS",
        86_400.0,
        _positive,
        "How long after a task ended its webhook is retried before it is given up",
    )
    webhook_backoff_seconds: float = _setting(
        "KONTEXT_WEBHOOK_BACKOFF_SECONDS",
        5.0,
        _positive,
        "Wait before the first webhook retry; it doubles each time (with jitter), up to an hour",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["env"])
            if raw is None or raw == "":
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError as exc:
                shown = "<hidden>" if spec.metadata["secret"] else repr(raw)
                raise SettingsError(f"{spec.metadata['env']}={shown}: {exc}") from exc
        return cls(**values).resolved(Path.cwd())

    def resolved(self, cwd: Path) -> Settings:
        """These settings with the SQLite file and the image folder as absolute paths, decided
        once at start-up (`~` expanded, relative paths against `cwd`)."""
        return dataclasses.replace(
            self,
            database_url=absolute_sqlite_url(self.database_url, cwd),
            storage_dir=absolute_path(self.storage_dir, cwd),
        )

    def __post_init__(self) -> None:
        if not self.storage_url:
            return
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            raise SettingsError(
                "set both KONTEXT_S3_ACCESS_KEY_ID and KONTEXT_S3_SECRET_ACCESS_KEY, or neither "
                "(to use the AWS credential chain)"
            )
        try:
            self.s3_settings()
        except ValueError as exc:
            raise SettingsError(
                f"S3 storage (KONTEXT_STORAGE_URL={self.storage_url!r}): {exc}"
            ) from exc

    def s3_settings(self) -> S3Settings | None:
        """The S3-compatible bucket images go to; None: the local folder storage_dir."""
        if not self.storage_url:
            return None
        return S3Settings.from_url(
            self.storage_url,
            endpoint_url=self.s3_endpoint_url or None,
            region=self.s3_region,
            access_key_id=self.s3_access_key_id or None,
            secret_access_key=self.s3_secret_access_key or None,
            presign_seconds=self.s3_presign_seconds,
            public_base_url=self.s3_public_base_url or None,
        )

    @property
    def auth_required(self) -> bool:
        if self.auth == "auto":
            return self.host not in LOOPBACK_HOSTS
        return self.auth == "on"

    @property
    def uses_emulator(self) -> bool:
        return not self.comfyui_urls

    @property
    def model_files(self) -> dict[str, str]:
        chosen = {
            "unet": self.model_unet,
            "clip_l": self.model_clip_l,
            "t5": self.model_t5,
            "vae": self.model_vae,
        }
        return {slot: name for slot, name in chosen.items() if name}


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting: the README table is made from this."""
    rows = []
    for spec in fields(Settings):
        default = spec.default
        if isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, tuple):
            shown = ",".join(map(str, default))
        else:
            shown = str(default)
        rows.append((spec.metadata["env"], shown, spec.metadata["doc"]))
    return rows


def settings_markdown() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{env}` | `{default}` | {doc} |" for env, default, doc in settings_table()]
    return "\n".join(lines)
