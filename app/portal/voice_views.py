"""投诉 and 办不成事 on the portal: a signed-in applicant files under their name, a
visitor with a phone number only (anonymous). Throttled per address and per phone."""

from __future__ import annotations

from flask import current_app, render_template, request
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.feedback import complaints
from app.feedback import services as feedback
from app.feedback.forms import voice_from
from app.models.cases import Case
from app.verify.throttle import Throttle, minutes
from app.vocabulary import CaseChannel

from . import guide
from .views import current_identity

FILINGS_PER_HOUR = 5
TITLES = {feedback.COMPLAINT: "投诉举报", feedback.CANNOT_DO: "“办不成事”反映"}


def _throttle() -> Throttle:
    # one store per application (tests build many apps in one process)
    return current_app.extensions.setdefault("portal_voices", Throttle())


def complaint():
    return _voice(feedback.COMPLAINT, "portal.complaint")


def cannot_do():
    return _voice(feedback.CANNOT_DO, "portal.cannot_do")


def _page(code, endpoint, identity, *, error=None, errors=None, typed=None, status=200):
    return render_template(
        "portal/voice.html",
        code=code,
        endpoint=endpoint,
        title=TITLES[code],
        me=identity,
        subject_kinds=complaints.SUBJECT_KINDS,
        error=error,
        errors=errors or {},
        typed=typed or {},
    ), status


def _place(voice):
    """Where it is filed: the case complained about, else the hall's county."""
    number = voice.subject_case_number.strip()[:32]
    if number:
        case = db.session.scalars(select(Case).where(Case.number == number)).first()
        if case is not None:
            return case.place
    return guide.hall_county(db.session)


def _voice(code: str, endpoint: str):
    identity = current_identity()
    if request.method == "GET":
        return _page(code, endpoint, identity)
    applicant = identity.applicant if identity is not None else None
    voice = voice_from(
        request.form,
        request.files,
        code,
        name=applicant.name if applicant else "",
        id_number=applicant.id_number if applicant else "",
    )
    if applicant is not None:
        voice.phone = voice.phone or applicant.phone
    keys = (f"addr:{request.remote_addr or '-'}", f"phone:{voice.phone.strip()[:20]}")
    waits = [_throttle().retry_after(k, limit=FILINGS_PER_HOUR, window=3600) for k in keys]
    waits = [w for w in waits if w is not None]
    if waits:
        error = f"提交过于频繁，请 {minutes(max(waits))} 分钟后再试，或拨打服务热线。"
        return _page(code, endpoint, identity, error=error, typed=request.form, status=429)
    try:
        case, password = complaints.file(
            db.session,
            voice,
            _place(voice),
            CaseChannel.ONLINE,
            account_id=applicant.id if applicant else None,
        )
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        return _page(
            code,
            endpoint,
            identity,
            error=exc.message,
            errors=exc.field_errors(),
            typed=request.form,
            status=exc.status,
        )
    db.session.commit()
    for key in keys:
        _throttle().fail(key, window=3600)  # counts filings, not failures
    return render_template("feedback/filed.html", case=case, password=password, staff=False)
