"""The window's pages: 受理台 (intake), the case list and the case page."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from app import once, policy
from app.clock import center_clock
from app.engine import platform_runtime
from app.errors import Conflict, DomainError, refusals_return_to
from app.extensions import db
from app.files import store
from app.items.packages import published as published_packages
from app.limits import page_number
from app.models.cases import APPLICANT_TYPES, SPECIAL_PROCEDURES, Case, CasePause
from app.models.items import FEEDBACK_KIND, Item
from app.models.library import LibraryEntry
from app.models.org import Region
from app.models.supervision import CaseWarning
from app.org.directory import place_labels
from app.policy import STAFF, requires
from app.vocabulary import CaseStatus, ItemStatus
from workflows.errors import RuntimeErrorBase
from workflows.messages import describe_wait

from . import library, payments, services
from .access import reveals_case_applicant, shields_complainant, visible_case
from .history import case_history
from .intake_form import (
    answers,
    application_data,
    case_schema,
    edit_fields,
    intake_fields,
    missing_answers,
    parse_intake,
    revision,
)
from .places import intake_regions, may_receive_at, receiving_channel

PAGE_SIZE = 50
ACTIONS = {"accept": "受理", "correct": "补正", "refuse": "不予受理", "receive": "收件"}
DONE = {
    "accept": "已受理，已出具受理通知书。",
    "correct": "已出具补正材料通知书（一次性告知）。",
    "refuse": "已出具不予受理通知书。",
    "receive": "已收件，已出具申请材料接收凭证；请在答复期限内受理、补正或不予受理。",
}


# --- intake ------------------------------------------------------------------------


def _published_items():
    return db.session.scalars(
        select(Item)
        .where(Item.status == ItemStatus.PUBLISHED, Item.kind != FEEDBACK_KIND)
        .order_by(Item.kind, Item.code)
    ).all()


def _intake_page(item, *, values=None, errors=None, status=200):
    regions = intake_regions(db.session, current_user)
    clock = center_clock(db.session)
    return (
        render_template(
            "cases/intake.html",
            items=_published_items(),
            packages=published_packages(db.session),
            item=item,
            nonce=once.form_nonce(),
            places=place_labels(db.session, regions),
            applicant_types=APPLICANT_TYPES,
            fields=intake_fields(db.session, item, request.form if values else None, errors or {})
            if item
            else [],
            values=values or {},
            errors=errors or {},
            online=services.online_queue(db.session, place_ids=[r.id for r in regions]),
            due_soon=services.decisions_due_soon(
                db.session,
                clock.add_workdays(clock.today(), 1),
                place_ids=[r.id for r in regions],
            ),
        ),
        status,
    )


@requires("intake")
def intake():
    item = db.session.get(Item, request.args.get("item", type=int) or 0)
    if item is not None and not _receivable(item):
        item = None
    return _intake_page(item)


def _receivable(item: Item) -> bool:
    """Published, and not a 监督件 (差评整改、投诉、办不成事 have their own entry points)."""
    return item.status == ItemStatus.PUBLISHED and item.kind != FEEDBACK_KIND


def applicant_from(form) -> services.Applicant:
    return services.Applicant(
        type=form.get("applicant_type", "person"),
        name=form.get("applicant_name", ""),
        id_number=form.get("applicant_id_number", ""),
        phone=form.get("applicant_phone", ""),
        contact_name=form.get("contact_name") or None,
    )


def _intake_from(form, item: Item) -> services.Intake:
    place = db.session.get(Region, form.get("place", type=int) or 0)
    if place is None or not may_receive_at(db.session, current_user, place):
        raise services.CaseError("请选择本窗口受理范围内的办理地点。", "place")
    received = {int(v) for v in form.getlist("materials") if v.isdigit()}
    return services.Intake(
        item=item,
        applicant=applicant_from(form),
        place=place,
        received=received,
        channel=receiving_channel(db.session, current_user),
        green_channel=form.get("green_channel") == "on",
        data=parse_intake(db.session, item, form),
    )


def _run_action(case: Case, action: str, form) -> None:
    actor = current_user.username
    if action == "accept":
        services.accept(db.session, case, actor)
    elif action == "correct":
        services.request_correction(db.session, case, actor, form.get("note") or None)
    elif action == "refuse":
        services.refuse(db.session, case, actor, form.get("reason", ""))


@requires("intake")
def intake_submit():
    item = db.session.get(Item, request.form.get("item", type=int) or 0)
    action = request.form.get("action")
    if item is None or not _receivable(item) or action not in ACTIONS:
        flash("请选择已发布的事项和受理操作。", "danger")
        return redirect(url_for("cases.intake"))
    try:
        once.spend_nonce(db.session, request.form.get("nonce"))
    except once.AlreadySubmitted as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("cases.index"))
    try:
        case, password = services.receive(
            db.session, _intake_from(request.form, item), current_user.username
        )
        _run_action(case, action, request.form)
        db.session.flush()  # a text over its column's size is refused here, with the form
    except (DomainError, RuntimeErrorBase) as exc:
        db.session.rollback()
        errors = dict(getattr(exc, "fields", {}) or {})
        if getattr(exc, "field", None):
            errors[exc.field] = exc.message
        flash(exc.message, "danger")
        return _intake_page(item, values=request.form.to_dict(flat=True), errors=errors, status=422)
    db.session.commit()
    done = DONE[action]
    if action == "accept" and services.decided_on_the_spot(item):
        done = "已受理（即办件当场办理，不出具受理通知书）。"
    flash(
        f"{done}办件编号 {case.number}，查询密码 {password}（只显示这一次，请告知申请人）。",
        "success",
    )
    return redirect(url_for("cases.detail", number=case.number))


# --- lists and the case page ------------------------------------------------------


def _visible_cases(stmt):
    """Cases received by the user, at the places of their windows and inspections, and
    in the regions they manage (platform administrators: all)."""
    seen = [Case.received_by == current_user.username]
    if policy.has(current_user, "instances.manage"):
        managed = policy.managed_places(db.session, current_user)
        if managed is None:
            return stmt
        seen.append(Case.place_id.in_(managed))
    regions = intake_regions(db.session, current_user) + policy.home_regions(
        db.session, current_user, ("inspector",)
    )
    if regions:
        places = select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in regions]))
        seen.append(Case.place_id.in_(places))
    return stmt.where(or_(*seen))


@requires(STAFF)
def index():
    page = page_number(request.args)
    text = request.args.get("q", "").strip()
    status = CaseStatus.parse(request.args.get("status"))
    stmt = _visible_cases(select(Case))
    if text:
        stmt = stmt.where(
            or_(Case.number == text, Case.applicant_name.contains(text, autoescape=True))
        )
    if status:
        stmt = stmt.where(Case.status == status)
    cases = db.session.scalars(
        stmt.order_by(Case.green_channel.desc(), Case.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "cases/index.html",
        cases=cases,
        q=text,
        status=status,
        statuses=CaseStatus.labels(),
        page=page,
        has_next=len(cases) == PAGE_SIZE,
    )


def _cosigns(case: Case, open_items) -> list[dict]:
    """Running 会签 of the case the user may change (加签/减签), with their signers."""
    found = []
    for bpmn_id in sorted({w.bpmn_id for w in open_items}):
        if not policy.may_change_signers(db.session, current_user, case.instance_id, bpmn_id):
            continue
        signers = platform_runtime().signers(case.instance_id, bpmn_id)
        if signers:
            name = next(w.name for w in open_items if w.bpmn_id == bpmn_id)
            found.append({"bpmn_id": bpmn_id, "name": name, "signers": signers})
    return found


def _working_days_left(case: Case) -> int | None:
    if case.promised_date is None or case.status not in CaseStatus.in_progress():
        return None
    return center_clock(db.session).workdays_left(case.promised_date)


def _may_act(case: Case) -> bool:
    """The window of the case's place (受理台 rights there)."""
    return policy.has(current_user, "intake") and may_receive_at(
        db.session, current_user, case.place
    )


def _application_form(case: Case, schema: dict | None, typed, errors) -> dict | None:
    """The form completing the answers: the window's, before 受理 or while 补正 waits."""
    if not schema or not schema.get("properties"):
        return None
    return {
        "fields": edit_fields(schema, case.data or {}, typed, errors),
        "revision": revision(case.data),
        "nonce": once.form_nonce(),
    }


@requires(STAFF)
def detail(number: str):
    return _detail_page(visible_case(number))


def _detail_page(case: Case, *, typed=None, errors=None, message=None, status=200):
    open_items = platform_runtime().open_work_items(case.instance.id) if case.instance else []
    may_act = _may_act(case)
    waiting = case.status in (CaseStatus.APPLIED, CaseStatus.CORRECTING)
    schema, data = case_schema(db.session, case), application_data(case)
    return render_template(
        "cases/detail.html",
        case=case,
        history=case_history(db.session, platform_runtime(), case),
        answers=answers(schema, data),
        unanswered=missing_answers(schema, data) if waiting else [],
        application=_application_form(case, schema, typed, errors) if may_act and waiting else None,
        application_error=message,
        open_items=open_items,
        waits=[describe_wait(w) for w in platform_runtime().waits(case.instance.id)]
        if case.instance
        else [],
        missing=services.missing_materials(case),
        delivered_in_process=services.delivered_in_process(db.session, case),
        pauses=db.session.scalars(
            select(CasePause).where(CasePause.case_id == case.id).order_by(CasePause.id)
        ).all(),
        procedures=SPECIAL_PROCEDURES,
        cosigns=_cosigns(case, open_items),
        payments=payments.payments_of(db.session, case),
        open_payments={p.id for p in payments.open_payments(db.session, case)},
        cards=db.session.scalars(
            select(CaseWarning).where(CaseWarning.case_id == case.id).order_by(CaseWarning.id)
        ).all(),
        left=_working_days_left(case),
        may_act=may_act,
        reveal=reveals_case_applicant(db.session, current_user, case),
        shielded=shields_complainant(case),
        library=_library_panel(case, may_act and waiting),
    ), status


def _library_panel(case: Case, offering: bool) -> dict:
    """资料共享库 on the case page: what was reused, and (for the window, before 受理)
    the applicant's entries matching the missing materials."""
    return {
        "uses": library.uses_by_material(db.session, case),
        "offers": library.offers_for_case(db.session, case) if offering else {},
    }


def _act(number: str, change, success: str):
    case = visible_case(number)
    if not _may_act(case):
        abort(403)
    page = url_for("cases.detail", number=number)
    refusals_return_to(page)
    change(case)
    db.session.commit()
    flash(success, "success")
    return redirect(page)


def _date(text: str | None):
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise services.CaseError("日期格式应为 2026-11-30。", "expected_end")


@requires("intake")
def act(number: str, action: str):
    form, actor = request.form, current_user.username
    changes = {
        "accept": (lambda c: services.accept(db.session, c, actor), "已受理，已出具受理通知书。"),
        "correct": (
            lambda c: services.request_correction(
                db.session,
                c,
                actor,
                form.get("note") or None,
                {int(v) for v in form.getlist("rejected") if v.isdigit() and len(v) < 10},
            ),
            "已出具补正材料通知书（一次性告知）。",
        ),
        "correction_received": (
            lambda c: services.receive_correction(
                db.session, c, actor, {int(v) for v in form.getlist("materials") if v.isdigit()}
            ),
            "已接收补正材料，已出具补正材料接收凭证。",
        ),
        "refuse": (
            lambda c: services.refuse(db.session, c, actor, form.get("reason", "")),
            "已出具不予受理通知书。",
        ),
        "withdraw": (
            lambda c: services.withdraw(db.session, c, actor, form.get("reason", "")),
            "已撤件。",
        ),
        "special": (
            lambda c: services.start_special_procedure(
                db.session,
                c,
                actor,
                form.get("procedure", ""),
                form.get("reason", ""),
                _date(form.get("expected_end")),
            ),
            "已开始特别程序，暂停计时，已出具特别程序告知书。",
        ),
        "resume": (
            lambda c: services.end_special_procedure(db.session, c, actor, form.get("note")),
            "已恢复计时，承诺办结日期已顺延。",
        ),
        "deliver": (
            lambda c: services.deliver(
                db.session, c, actor, form.get("method") or "窗口直接送达", form.get("receiver", "")
            ),
            "已送达，已出具送达回证。",
        ),
    }
    if action not in changes:
        abort(404)
    change, success = changes[action]
    return _act(number, change, success)


@requires("intake")
def upload(number: str, material_id: int):
    upload_file = request.files.get("file")

    def attach(case):
        material = next((m for m in case.materials if m.id == material_id), None)
        if material is None or upload_file is None or not upload_file.filename:
            raise services.CaseError("请选择要上传的文件。")
        blob = store.store(db.session, upload_file.read(), upload_file.filename)
        material.blob_sha256, material.filename = blob.sha256, store.safe_name(upload_file.filename)
        if case.instance_id is not None:
            store.bind(db.session, blob.sha256, case.instance_id)

    return _act(number, attach, "已上传材料文件。")


@requires("intake")
def reuse(number: str, material_id: int):
    """复用 an entry of the 资料共享库 for a missing material of the case."""
    entry_id = request.form.get("entry", "")

    def use(case):
        material = next((m for m in case.materials if m.id == material_id), None)
        known = entry_id.isdigit() and len(entry_id) < 10
        entry = db.session.get(LibraryEntry, int(entry_id)) if known else None
        if material is None or entry is None:
            raise services.CaseError("请选择要复用的共享材料。")
        library.reuse(db.session, case, material, entry, current_user.username)

    return _act(number, use, "已复用资料共享库中的材料。")


@requires(STAFF)
def material_file(number: str, material_id: int):
    case = visible_case(number)
    material = next((m for m in case.materials if m.id == material_id and m.blob_sha256), None)
    if material is None:
        abort(404)
    return send_file(
        store.path_of(material.blob_sha256),
        download_name=store.safe_name(material.filename),
        as_attachment=True,
    )


@requires("intake")
def application(number: str):
    """补充更正申请信息: the window completes or corrects the answers before 受理."""
    case = visible_case(number)
    if not _may_act(case):
        abort(403)
    page = url_for("cases.detail", number=number)
    try:
        once.spend_nonce(db.session, request.form.get("nonce"))
    except once.AlreadySubmitted as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(page)
    try:
        if request.form.get("revision") != revision(case.data):
            raise Conflict("申请信息在您打开页面后已被他人修改，请核对当前内容后重新填写。")
        changed = services.correct_application(
            db.session,
            case,
            current_user.username,
            parse_intake(db.session, case.item, request.form),
        )
        db.session.flush()
    except DomainError as exc:
        db.session.rollback()
        typed = request.form if exc.status == 422 else None
        return _detail_page(
            case, typed=typed, errors=exc.field_errors(), message=exc.message, status=exc.status
        )
    db.session.commit()
    flash(f"已更正申请信息：{'、'.join(changed)}。" if changed else "申请信息没有变化。", "success")
    return redirect(page)


@requires(STAFF)
def answer_file(number: str, field: str):
    """A file the application holds (an answer of the intake form), for whoever sees the case."""
    case = visible_case(number)
    prop = ((case_schema(db.session, case) or {}).get("properties") or {}).get(field)
    if not isinstance(prop, dict) or prop.get("format") != "file":
        abort(404)
    sha, _, name = str(application_data(case).get(field) or "").partition("/")
    if len(sha) != 64 or not store.path_of(sha).exists():
        abort(404)
    return send_file(
        store.path_of(sha), download_name=store.safe_name(name or sha), as_attachment=True
    )
