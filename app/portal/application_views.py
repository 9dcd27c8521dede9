"""The portal's 网上申报 and 我的办件 pages (an applicant's login required)."""

from __future__ import annotations

import io

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy.orm.exc import StaleDataError

from app.cases import corrections, documents, payments
from app.cases import packages as case_packages
from app.cases import pdf as renderer
from app.cases.intake_form import PREFIX, edit_fields, intake_schema, parse_intake
from app.clock import center_clock
from app.errors import DomainError
from app.extensions import db
from app.feedback import services as feedback
from app.feedback.forms import grade_choices, grade_from
from app.files import store
from app.items.packages import published_package
from app.limits import page_number
from app.org.directory import place_labels
from app.schema_forms import parse
from app.verify.throttle import Throttle, minutes
from app.vocabulary import RatingChannel

from . import applications, guide, my_cases
from .views import applicant_required

SUBMISSIONS_PER_HOUR = 30
LINK_FAILURES = 10
LINK_WINDOW_SECONDS = 600


def _throttle(name: str) -> Throttle:
    # one store per application (tests build many apps in one process)
    return current_app.extensions.setdefault(f"portal_{name}", Throttle())


def _applicant():
    return g.identity.applicant


# --- 网上申报 -----------------------------------------------------------------------


@applicant_required
def start(code: str):
    item = guide.published_item(db.session, code[:40])
    if item is None:
        abort(404)
    return _open_draft(url_for("portal.guide", code=item.code), item=item)


@applicant_required
def start_package(code: str):
    package = published_package(db.session, code[:40])
    if package is None:
        abort(404)
    return _open_draft(url_for("portal.package_guide", code=package.code), package=package)


def _open_draft(guide_url: str, **target):
    """The applicant's open draft for an item or a package (a new one if none)."""
    try:
        draft = applications.start(db.session, _applicant(), **target)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(guide_url)
    db.session.commit()
    return redirect(url_for("portal.application", draft_id=draft.id))


def _draft(draft_id: int):
    draft = applications.own_draft(db.session, _applicant(), draft_id)
    if draft is None:
        abort(404)
    return draft


def _application_page(draft, *, form=None, errors=None, message=None, status=200):
    asked = applications.shape(db.session, draft)
    schema = asked.schema()
    fields = edit_fields(schema, draft.data or {}, form, errors or {}) if asked.fields else []
    return render_template(
        "portal/application.html",
        draft=draft,
        item=draft.item,
        package=draft.package,
        shape=asked,
        fields=fields,
        places=place_labels(db.session, applications.places(db.session)),
        errors=errors or {},
        message=message,
        missing=applications.missing(db.session, draft),
        offers=applications.offers(db.session, draft),
    ), status


def _uploads(prefix: str) -> dict[int, applications.Upload]:
    found = {}
    for key, upload in request.files.items():
        if not key.startswith(prefix) or not upload or not upload.filename:
            continue
        number = key[len(prefix) :]
        if number.isdigit() and len(number) < 10:
            found[int(number)] = applications.Upload(upload.read(), upload.filename)
    return found


def _changes(draft) -> applications.Changes:
    place = request.form.get("place", "")
    removed = {int(v) for v in request.form.getlist("remove") if v.isdigit() and len(v) < 10}
    reused = {}
    for key, value in request.form.items():
        number = key.removeprefix("reuse-")
        if number != key and number.isdigit() and value.isdigit() and len(number + value) < 20:
            reused[int(number)] = int(value)
    return applications.Changes(
        revision=request.form.get("revision", type=int) or 0,
        place_id=int(place) if place.isdigit() and len(place) < 10 else None,
        contact_name=request.form.get("contact_name", "")[:80],
        answers=parse(applications.shape(db.session, draft).schema(), request.form, prefix=PREFIX),
        uploads=_uploads("material-"),
        removed=removed,
        reused=reused,
    )


@applicant_required
def application(draft_id: int):
    draft = _draft(draft_id)
    if draft.package_case is not None:
        return redirect(url_for("portal.package_case", number=draft.package_case.number))
    if draft.submitted:
        return redirect(url_for("portal.case", number=draft.case.number))
    if request.method == "GET":
        return _application_page(draft)
    action = request.form.get("action")
    if action == "submit":
        key = f"submit:{draft.applicant_id}"
        wait = _throttle("submissions").retry_after(key, limit=SUBMISSIONS_PER_HOUR, window=3600)
        if wait is not None:
            return _application_page(
                draft, message=f"提交过于频繁，请 {minutes(wait)} 分钟后再试。", status=429
            )
    try:
        applications.save(db.session, draft, _changes(draft))
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        flash("这份申请已在其他页面保存或提交，请核对当前内容。", "warning")
        return redirect(url_for("portal.application", draft_id=draft_id))
    except DomainError as exc:
        db.session.rollback()
        typed = request.form if exc.status == 422 else None
        draft = _draft(draft_id)
        return _application_page(
            draft, form=typed, errors=exc.field_errors(), message=exc.message, status=exc.status
        )
    if action != "submit":
        db.session.commit()
        flash("已暂存。可以随时回来继续填写。", "success")
        return redirect(url_for("portal.application", draft_id=draft.id))
    try:
        db.session.commit()  # what was typed is kept even when the submission is refused
    except StaleDataError:
        db.session.rollback()
        flash("这份申请已在其他页面保存或提交，请核对当前内容。", "warning")
        return redirect(url_for("portal.application", draft_id=draft_id))
    try:
        made, password = applications.submit(db.session, draft)
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        draft = _draft(draft_id)
        return _application_page(
            draft, errors=exc.field_errors(), message=exc.message, status=exc.status
        )
    try:
        db.session.commit()
    except StaleDataError:  # submitted twice at once: the other request won
        db.session.rollback()
        return redirect(url_for("portal.application", draft_id=draft_id))
    _throttle("submissions").fail(f"submit:{draft.applicant_id}", window=3600)
    if draft.package is not None:
        flash(
            f"一件事“{draft.package.name}”已提交，编号 {made.number}，共 {len(made.cases)} 个办件，"
            f"查询密码 {password}（各办件通用，只显示这一次）。"
            "窗口将在 5 个工作日内预审，结果会在“我的办件”中通知您。",
            "success",
        )
        return redirect(url_for("portal.package_case", number=made.number))
    flash(
        f"申请已提交，办件编号 {made.number}，查询密码 {password}（只显示这一次）。"
        "窗口将在 5 个工作日内预审，结果会在“我的办件”中通知您。",
        "success",
    )
    return redirect(url_for("portal.case", number=made.number))


@applicant_required
def delete(draft_id: int):
    draft = _draft(draft_id)
    try:
        applications.delete(db.session, draft)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("portal.cases"))
    db.session.commit()
    flash("草稿已删除。", "success")
    return redirect(url_for("portal.cases"))


@applicant_required
def draft_file(draft_id: int, material_id: int):
    upload = (_draft(draft_id).materials or {}).get(str(material_id))
    if not upload or "sha256" not in upload:
        abort(404)
    return send_file(
        store.path_of(upload["sha256"]),
        download_name=store.safe_name(upload["filename"]),
        as_attachment=True,
    )


# --- 我的办件 -------------------------------------------------------------------------


@applicant_required
def cases():
    applicant = _applicant()
    page = page_number(request.args)
    found = my_cases.cases(db.session, applicant, page)
    return render_template(
        "portal/cases.html",
        applicant=applicant,
        cases=found,
        packages=my_cases.packages(db.session, applicant) if page == 1 else [],
        progress=case_packages.progress,
        drafts=applications.drafts(db.session, applicant) if page == 1 else [],
        reminders=my_cases.reminders(db.session, applicant) if page == 1 else [],
        stage=my_cases.stage,
        page=page,
        has_next=len(found) == my_cases.PAGE_SIZE,
    )


def _case(number: str):
    case = my_cases.case_of(db.session, _applicant(), number[:32])
    if case is None:
        abort(404)
    return case


def _rating_card(case, typed=None, errors=None) -> dict | None:
    """好差评 on the case page once the case has ended (一次一评, changeable a few days)."""
    if not feedback.may_rate(case):
        return None
    rating = feedback.rating_of(db.session, case)
    return {
        "rating": rating,
        "changeable": feedback.changeable(rating, center_clock(db.session).now()),
        "change_days": feedback.change_days(),
        "typed": typed or {},
        "errors": errors or {},
        **grade_choices(),
    }


def _case_page(case, *, form=None, errors=None, message=None, status=200, rating=None):
    notice = applications.correction_notice(db.session, case)
    schema = intake_schema(db.session, case.item) if notice else None
    return render_template(
        "portal/case.html",
        case=case,
        stage=my_cases.stage(case),
        steps=my_cases.current_steps(db.session, case),
        events=my_cases.events(db.session, case),
        event_names=my_cases.PUBLIC_EVENTS,
        notice=notice,
        asked=corrections.waiting_correction(case),
        payments=payments.payments_of(db.session, case),
        open_payments=payments.open_payments(db.session, case),
        fields=edit_fields(schema, case.data or {}, form, errors or {}) if schema else [],
        errors=errors or {},
        message=message,
        rating=rating or _rating_card(case),
    ), status


@applicant_required
def case(number: str):
    return _case_page(_case(number))


@applicant_required
def rate(number: str):
    """好差评 from 我的办件: the applicant's own case, signed in."""
    case = _case(number)
    try:
        rating = feedback.rate(db.session, case, grade_from(request.form), RatingChannel.PORTAL)
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        case = _case(number)
        card = _rating_card(case, request.form, exc.field_errors())
        return _case_page(case, message=exc.message, status=exc.status, rating=card)
    db.session.commit()
    said = f"感谢您的评价：{rating.level_zh}。"
    if rating.rectification is not None:
        said += f"我们已转为差评整改（编号 {rating.rectification.number}），核实整改后将回访您。"
    flash(said, "success")
    return redirect(url_for("portal.case", number=number))


@applicant_required
def package_case(number: str):
    """一件事: the package as a whole, each of its cases and where to collect the results."""
    bundle = my_cases.package_of(db.session, _applicant(), number[:32])
    if bundle is None:
        abort(404)
    return render_template(
        "portal/package_case.html",
        bundle=bundle,
        state=case_packages.progress(bundle),
        stage=my_cases.stage,
        steps={c.id: my_cases.current_steps(db.session, c) for c in bundle.cases},
    )


@applicant_required
def correction(number: str):
    case = _case(number)
    answers = (
        parse_intake(db.session, case.item, request.form) if "has_answers" in request.form else None
    )
    try:
        applications.resubmit(db.session, case, answers, _uploads("material-"))
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        typed = request.form if exc.status == 422 else None
        return _case_page(
            _case(number),
            form=typed,
            errors=exc.field_errors(),
            message=exc.message,
            status=exc.status,
        )
    db.session.commit()
    flash("补正材料已提交，窗口将重新预审。", "success")
    return redirect(url_for("portal.case", number=number))


@applicant_required
def supplement(number: str):
    """补正 asked by a department inside the process, answered online."""
    case = _case(number)
    try:
        names = applications.supplement(
            db.session, case, _uploads("supplement-"), request.form.get("note", "")
        )
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        return _case_page(
            _case(number), errors=exc.field_errors(), message=exc.message, status=exc.status
        )
    db.session.commit()
    flash(f"已提交补正材料：{'、'.join(names)}。窗口核对后恢复办理。", "success")
    return redirect(url_for("portal.case", number=number))


@applicant_required
def case_file(number: str, material_id: int):
    case = _case(number)
    material = next((m for m in case.materials if m.id == material_id and m.blob_sha256), None)
    if material is None:
        abort(404)
    return send_file(
        store.path_of(material.blob_sha256),
        download_name=store.safe_name(material.filename),
        as_attachment=True,
    )


@applicant_required
def document_pdf(number: str, doc_id: int):
    case = _case(number)
    document = my_cases.document_of(db.session, case, doc_id)
    if document is None:
        abort(404)
    page, name = documents.render_html(document, for_pdf=True), f"{number}-{document.kind}.pdf"
    db.session.close()  # rendering never holds a database transaction
    response = send_file(
        io.BytesIO(renderer.html_to_pdf(page)),
        mimetype="application/pdf",
        download_name=name,
        as_attachment=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@applicant_required
def link():
    number = request.form.get("number", "").strip()[:32]
    password = request.form.get("password", "").strip()[:16]
    keys = (request.remote_addr or "-", f"case:{number}")
    throttle = _throttle("links")
    waits = [
        w
        for w in (
            throttle.retry_after(k, limit=LINK_FAILURES, window=LINK_WINDOW_SECONDS) for k in keys
        )
        if w is not None
    ]
    if waits:
        flash(f"尝试过于频繁，请 {minutes(max(waits))} 分钟后再试。", "danger")
        return redirect(url_for("portal.cases"))
    try:
        case = my_cases.link(db.session, _applicant(), number, password)
    except DomainError as exc:
        db.session.rollback()
        for key in keys:
            throttle.fail(key, window=LINK_WINDOW_SECONDS)
        flash(exc.message, "danger")
        return redirect(url_for("portal.cases"))
    db.session.commit()
    flash(f"已添加办件 {case.number}。", "success")
    return redirect(url_for("portal.case", number=case.number))
