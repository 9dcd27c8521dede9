"""Content-addressed file storage: checked on the way in, stored once per sha256."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import current_app

from app.errors import DomainError
from app.models.files import Blob, InstanceFile

# extension -> (mime, magic prefixes the content must start with)
ACCEPTED = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".ofd": ("application/ofd", (b"PK\x03\x04",)),
}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class FileRejected(DomainError):
    """An upload that is not accepted; ``message`` says why, in Chinese."""


UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\"<>|:*?]")
MAX_NAME = 200


def safe_name(filename: str | None) -> str:
    """A name fit to keep, show and send back: no folders (``../``), no control
    characters (NUL, CR/LF that would split a header), not empty, not too long."""
    name = re.split(r"[/\\]", str(filename or ""))[-1]
    name = UNSAFE_IN_NAMES.sub("", name).strip().lstrip(".")
    if len(name) > MAX_NAME:
        stem, extension = os.path.splitext(name)
        name = stem[: MAX_NAME - len(extension)] + extension
    return name or "file"


def _root() -> Path:
    return Path(current_app.config.get("FILES_DIR") or Path(current_app.instance_path) / "files")


def path_of(sha256: str) -> Path:
    return _root() / sha256[:2] / sha256


def check(content: bytes, filename: str, max_bytes: int | None = None) -> str:
    """The MIME type of an acceptable upload; raises FileRejected otherwise."""
    limit = max_bytes or current_app.config.get("FILE_MAX_BYTES", DEFAULT_MAX_BYTES)
    if not content:
        raise FileRejected(f"文件 {filename} 是空的。")
    if len(content) > limit:
        raise FileRejected(f"文件 {filename} 超过 {limit // (1024 * 1024)} MB。")
    extension = os.path.splitext(filename.lower())[1]
    if extension not in ACCEPTED:
        raise FileRejected(
            f"不接受 {extension or '无扩展名'} 文件；请上传 PDF、图片（JPG/PNG）、Word、Excel 或 OFD。"
        )
    mime, magics = ACCEPTED[extension]
    if not content.startswith(magics):
        raise FileRejected(f"文件 {filename} 的内容与扩展名 {extension} 不符。")
    return mime


def store(session, content: bytes, filename: str) -> Blob:
    """Check and store content once; returns its Blob row (existing or new)."""
    mime = check(content, filename)
    digest = hashlib.sha256(content).hexdigest()
    blob = session.get(Blob, digest)
    target = path_of(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(content)
        os.replace(handle.name, target)
    if blob is None:
        blob = Blob(sha256=digest, size=len(content), mime=mime)
        session.add(blob)
        session.flush()  # before rows that refer to it by its sha256 (no relationship)
    return blob


def read(sha256: str) -> bytes:
    return path_of(sha256).read_bytes()


def bind(session, sha256: str, instance_id: int) -> None:
    """Record that this content was uploaded to this case's process."""
    if session.get(InstanceFile, (instance_id, sha256)) is None:
        session.add(InstanceFile(instance_id=instance_id, sha256=sha256))
        session.flush()


def bound(session, sha256: str, instance_id: int) -> bool:
    return session.get(InstanceFile, (instance_id, sha256)) is not None


def foreign_files(session, schema: dict | None, instance_id: int, data: dict) -> dict[str, str]:
    """File fields of ``data`` naming content not uploaded to this case: field -> message."""
    found = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if not (isinstance(prop, dict) and prop.get("format") == "file" and data.get(name)):
            continue
        sha = str(data[name]).partition("/")[0]
        if not bound(session, sha, instance_id):
            found[name] = "该文件不是本办件上传的，请重新上传。"
    return found
