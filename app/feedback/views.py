"""好差评's public pages (the rating page a notice's QR code opens, the monthly results)
and the hall's 专窗 where a clerk registers a complaint or a 办不成事 report."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.cases import services as case_services
from app.clock import center_clock
from app.errors import DomainError
from app.extensions import db
from app.models.cases import Case
from app.models.items import FEEDBACK_KIND
from app.policy import requires
from app.verify.throttle import Throttle, minutes
from app.vocabulary import CaseChannel, RatingChannel

from . import complaints, services
from .forms import grade_choices, grade_from, voice_from

KINDS = {"complaint": services.COMPLAINT, "cannot-do": services.CANNOT_DO}
TITLES = {services.COMPLAINT: "投诉登记", services.CANNOT_DO: "“办不成事”反映登记"}
PASSWORD_FAILURES = 10
PASSWORD_WINDOW_SECONDS = 600


def _throttle() -> Throttle:
    # one store per application (tests build many apps in one process)
    return current_app.extensions.setdefault("feedback_throttle", Throttle())


# --- the rating page (扫码评价) --------------------------------------------------------


def _rated_case(number: str) -> Case:
    case = db.session.scalars(select(Case).where(Case.number == number[:32])).first()
    if case is None or case.item.kind == FEEDBACK_KIND:
        abort(404)
    return case


def _rate_page(case, *, rating=None, done=False, error=None, errors=None, typed=None, status=200):
    now = center_clock(db.session).now()
    rating = rating if rating is not None else services.rating_of(db.session, case)
    return render_template(
        "feedback/rate.html",
        case=case,
        ready=services.may_rate(case),
        rating=rating if done else None,
        done=done,
        changeable=services.changeable(rating, now),
        rated_before=rating is not None,
        change_days=services.change_days(),
        error=error,
        errors=errors or {},
        typed=typed or {},
        **grade_choices(),
    ), status


def rate_form(number: str):
    return _rate_page(_rated_case(number))


def rate(number: str):
    """The applicant rates with the case's query password (throttled per address and case)."""
    case = _rated_case(number)
    keys = (request.remote_addr or "-", f"rate:{case.number}")
    window = current_app.config.get("RATING_WINDOW_SECONDS", PASSWORD_WINDOW_SECONDS)
    limit = current_app.config.get("RATING_MAX_FAILURES", PASSWORD_FAILURES)
    waits = [w for w in (_throttle().retry_after(k, limit=limit, window=window) for k in keys) if w]
    if waits:
        error = f"尝试过于频繁，请 {minutes(max(waits))} 分钟后再试。"
        return _rate_page(case, error=error, typed=request.form, status=429)
    password = (request.form.get("password") or "")[:20]
    if not case_services.query_password_matches(case, password):
        for key in keys:
            _throttle().fail(key, window=window)
        errors = {"password": "查询密码不正确，请核对受理通知书或窗口告知的 6 位密码。"}
        return _rate_page(case, errors=errors, typed=request.form, status=403)
    try:
        rating = services.rate(db.session, case, grade_from(request.form), RatingChannel.CODE)
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        case = _rated_case(number)
        return _rate_page(
            case,
            error=exc.message,
            errors=exc.field_errors(),
            typed=request.form,
            status=exc.status,
        )
    db.session.commit()
    return _rate_page(case, rating=rating, done=True)


# --- the public results -----------------------------------------------------------------


def _month(value: str | None, today: date) -> date:
    try:
        year, month = (int(part) for part in (value or "").split("-", 1))
        chosen = date(year, month, 1)
    except ValueError:
        return today.replace(day=1)
    return chosen if date(2000, 1, 1) <= chosen <= today else today.replace(day=1)


def results():
    today = center_clock(db.session).today()
    month = _month(request.args.get("month", "")[:7], today)
    months, cursor = [], today.replace(day=1)
    for _ in range(12):
        months.append(cursor)
        cursor = (cursor.replace(day=1) - date.resolution).replace(day=1)
    scores = services.month_scores(db.session, month)
    total = services.Score(
        "合计",
        sum(s.ratings for s in scores),
        sum(s.satisfied for s in scores),
        sum(s.bad for s in scores),
        sum(s.rectified for s in scores),
    )
    return render_template(
        "feedback/results.html", month=month, months=months, scores=scores, total=total
    )


# --- the hall's 专窗 ----------------------------------------------------------------------


def _voice_kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


def _window_place():
    regions = policy.home_regions(db.session, current_user, ("window_clerk",))
    return regions[0] if regions else None


@requires("intake")
def window(kind: str):
    """A clerk registers what a visitor reports at the 专窗 (the visitor may stay anonymous)."""
    code = _voice_kind(kind)
    place = _window_place()
    if request.method == "GET":
        return _window_page(kind, code, place)
    if place is None:
        return _window_page(kind, code, place, error="您不在任何窗口岗位，不能登记。", status=403)
    try:
        voice = voice_from(request.form, request.files, code)
        case, password = complaints.file(
            db.session, voice, place, CaseChannel.WINDOW, actor=current_user.username
        )
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        return _window_page(
            kind,
            code,
            place,
            error=exc.message,
            errors=exc.field_errors(),
            typed=request.form,
            status=exc.status,
        )
    db.session.commit()
    return render_template("feedback/filed.html", case=case, password=password, staff=True)


def _window_page(kind, code, place, *, error=None, errors=None, typed=None, status=200):
    return render_template(
        "feedback/window.html",
        kind=kind,
        code=code,
        title=TITLES[code],
        place=place,
        subject_kinds=complaints.SUBJECT_KINDS,
        error=error,
        errors=errors or {},
        typed=typed or {},
        staff=True,
    ), status
