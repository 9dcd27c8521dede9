"""Reading the rating and complaint forms (the portal's pages and the hall's 专窗 share them)."""

from __future__ import annotations

from app.vocabulary import RatingLevel

from . import services
from .complaints import MAX_ATTACHMENTS, Attachment, Voice
from .services import TAGS, Grade

FIELD_LIMIT = 4000  # characters read of any one field (longer is refused by the checks)


def _text(form, key: str) -> str:
    return (form.get(key) or "")[:FIELD_LIMIT]


def grade_choices() -> dict:
    """What the rating forms offer (the QR page and the portal's card)."""
    return {
        "levels": RatingLevel.labels(),
        "good_tags": services.GOOD_TAGS,
        "bad_tags": services.BAD_TAGS,
        "comment_limit": services.COMMENT_LIMIT,
    }


def grade_from(form) -> Grade:
    tags = [t for t in form.getlist("tags")[: len(TAGS)] if t in TAGS]
    return Grade(level=_text(form, "level")[:1], tags=tags, comment=_text(form, "comment"))


def voice_from(form, files, kind: str, *, name: str | None = None, id_number: str = "") -> Voice:
    """The complaint or report as sent. ``name`` given: the signed-in applicant's (or ""
    for a visitor, who files anonymously); None: the name typed at the 专窗 (blank:
    anonymous)."""
    uploads = [
        Attachment(upload.read(), upload.filename)
        for upload in files.getlist("attachments")[: MAX_ATTACHMENTS + 1]
        if upload and upload.filename
    ]
    return Voice(
        kind=kind,
        content=_text(form, "content"),
        phone=_text(form, "phone"),
        name=name if name is not None else _text(form, "name"),
        id_number=id_number,
        subject_kind=_text(form, "subject_kind"),
        subject_name=_text(form, "subject_name"),
        subject_case_number=_text(form, "subject_case_number"),
        matter=_text(form, "matter"),
        where_blocked=_text(form, "where_blocked"),
        attachments=uploads,
    )
