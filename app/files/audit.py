"""What the audit chain records of uploads: every blob stored."""

from __future__ import annotations

from app.audit.chain import Covered
from app.models.files import Blob

COVERED = (Covered(Blob, "files", complete=True),)
