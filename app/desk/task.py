"""The task page (办理): one work item with its case, the history so far and its form.

``GET`` shows the form, filled from the case or from the user's draft; ``POST``
completes the item through the runtime (which validates; its messages come back
next to the fields) or saves a draft. The form is the task's JSON Schema, drawn
by ``app.schema_forms``, with a 办理意见 field added where the schema has none.
"""

from __future__ import annotations

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import delete, select

from app import policy
from app.cases.access import revealed_keys
from app.cases.history import OPINION, history_rows
from app.cases.intake_form import answers, step_schema
from app.cases.progress import step_marks
from app.cases.services import INTAKE_STEP, CaseSuspended, suspension_of
from app.clock import center_clock
from app.engine import platform_runtime
from app.extensions import db
from app.files import store
from app.models.cases import Case
from app.models.desk import OpinionPhrase, TaskDraft
from app.policy import STAFF, requires
from app.privacy import masked
from app.schema_forms import fields, other_errors, parse
from app.vocabulary import WorkItemStatus
from workflows import models as m
from workflows.errors import InstanceNotActive, InvalidTaskData, WorkItemConflict
from workflows.runtime import Runtime
from workflows.timeutil import utcnow

from . import operations
from .operations import handover_colleagues
from .services import copies_of_instance, copy_recipients

OPINION_FIELD = {"type": "string", "title": "办理意见", "maxLength": 2000}
PHRASES = ("同意。", "情况属实，同意办理。", "材料不全，请补正。")
CASE_FACTS = (
    ("case_number", "办件编号"),
    ("applicant_name", "申请人"),
    ("item_name", "申请事项"),
    ("place_name", "所在地"),
)
# --- pages -------------------------------------------------------------------------


@requires("work")
def show(item_id: int):
    runtime = platform_runtime()
    item = runtime.work_item(item_id)
    if item.status == WorkItemStatus.OPEN:
        if not policy.can_act(db.session, current_user, item):
            abort(403)
    elif not policy.can_view_instance(db.session, current_user, item.instance):
        abort(403)
    return _page(runtime, item)


@requires("work")
def submit(item_id: int):
    runtime = platform_runtime()
    item = runtime.work_item(item_id)
    # Open work routed elsewhere is refused here (before any upload is stored);
    # a closed or claimed item gets the runtime's conflict.
    try:
        operations.require_actor(db.session, current_user, item)
    except operations.OperationForbidden:
        abort(403)
    schema = task_schema(runtime, item)
    facts = operations.case_facts(db.session, item.instance)
    try:
        posted = with_uploads(schema, request.form, request.files, item.instance_id)
    except store.FileRejected as exc:
        db.session.rollback()
        typed = parse(schema, request.form, keep_empty=True)
        return _again(item_id, typed=typed, errors=exc.fields, status=422)
    typed = parse(schema, posted, keep_empty=True)
    if posted.get("action") == "draft":
        return _save_draft(runtime, item, typed)
    try:
        operations.complete(
            db.session,
            runtime,
            current_user,
            item.id,
            parse(schema, posted, readonly=operations.fixed_fields(schema, facts)),
            request.form.get("version", type=int),
        )
    except InvalidTaskData as exc:
        return _again(item_id, typed=typed, errors=exc.fields, status=422)
    except (WorkItemConflict, InstanceNotActive, CaseSuspended) as exc:
        return _again(item_id, typed=typed, conflict=exc.message, status=409)
    step = item.name
    discard_drafts(db.session, item.id)
    db.session.commit()
    flash(f"已办理：{step}", "success")
    return redirect(url_for("desk.index"))


def with_uploads(schema: dict | None, form, files, instance_id: int):
    """The posted form with each chosen file stored and its field set to "<sha256>/<name>".

    A field whose file input is left empty keeps the value it had (a hidden input).
    Raises ``store.FileRejected`` with ``fields`` naming the field at fault.
    """
    posted = form.copy()
    for name, prop in (schema or {}).get("properties", {}).items():
        if not isinstance(prop, dict) or prop.get("format") != "file":
            continue
        upload = files.get(f"{name}__upload")
        if upload is None or not upload.filename:
            continue
        try:
            blob = store.store(db.session, upload.read(), upload.filename)
        except store.FileRejected as exc:
            exc.fields = {name: exc.message}
            raise
        store.bind(db.session, blob.sha256, instance_id)
        posted[name] = f"{blob.sha256}/{store.safe_name(upload.filename)}"
    return posted


@requires(STAFF)
def file(item_id: int, field: str):
    """A file a step's form holds (its own or an earlier step's), for whoever sees the case."""
    runtime = platform_runtime()
    item = runtime.work_item(item_id)
    if not (
        policy.can_act(db.session, current_user, item)
        or policy.can_view_instance(db.session, current_user, item.instance)
    ):
        abort(403)
    value = (item.data or {}).get(field) or (item.instance.data or {}).get(field)
    sha, _, name = str(value or "").partition("/")
    if len(sha) != 64 or not store.path_of(sha).exists():
        abort(404)
    return send_file(
        store.path_of(sha), download_name=store.safe_name(name or sha), as_attachment=True
    )


def _save_draft(runtime: Runtime, item: m.WorkItem, typed: dict):
    if item.status != WorkItemStatus.OPEN:
        message = f"该待办{WorkItemStatus.label_of(item.status)}，草稿未保存。"
        return _page(runtime, item, typed=typed, conflict=message, status=409)
    save_draft(db.session, item.id, current_user.id, typed)
    db.session.commit()
    flash("草稿已保存（仅您本人可见，提交前不会进入办件）。", "success")
    return redirect(url_for("desk.task", item_id=item.id))


def _again(item_id: int, **page):
    """The page once more after a refused completion; nothing of it was kept."""
    db.session.rollback()
    runtime = platform_runtime()
    return _page(runtime, runtime.work_item(item_id, refresh=True), **page)


def _page(
    runtime: Runtime,
    item: m.WorkItem,
    *,
    typed: dict | None = None,
    errors: dict | None = None,
    conflict: str | None = None,
    status: int = 200,
):
    instance = item.instance
    may_act = (
        conflict is None
        and item.status == WorkItemStatus.OPEN
        and policy.can_act(db.session, current_user, item)
    )
    # 委派: the delegate answers (no form to complete); the owner waits for the answer
    asked = may_act and item.delegation == m.DELEGATION_PENDING
    answering = asked and item.delegated_to == current_user.username
    actionable = may_act and not asked
    if not (actionable or policy.can_view_instance(db.session, current_user, instance)):
        # Told why the work is out of reach, but shown nothing of a case not theirs.
        return render_template("desk/task.html", item=item, conflict=conflict), status
    events = runtime.history(instance.id)
    case = db.session.scalars(select(Case).where(Case.instance_id == instance.id)).first()
    schema = task_schema(runtime, item)
    draft = (
        load_draft(db.session, item.id, current_user.id) if actionable and typed is None else None
    )
    properties = set(schema.get("properties") or {})
    values = masked(
        form_values(schema, item, events, typed=typed, draft=draft),
        revealed_fields(item, properties, actionable),
    )
    names = (
        operations.fixed_fields(schema, operations.case_facts(db.session, instance))
        if actionable
        else properties
    )
    return render_template(
        "desk/task.html",
        item=item,
        visible=True,
        instance=instance,
        case=case,
        file_item_id=item.id,
        marks=step_marks(db.session, case, events) if case is not None else None,
        process_name=instance.definition.name or instance.process_id,
        facts=case_facts(instance.data or {}),
        history=history_rows(db.session, runtime, instance, events),
        application=answers(step_schema(db.session, instance.definition_id), instance.data or {}),
        fields=fields(schema, values=values, errors=errors, readonly=names),
        form_help=schema.get("description"),
        other_errors=other_errors(schema, errors or {}),
        invalid=errors is not None,
        actionable=actionable,
        answering=answering,
        waiting_for=item.delegated_to if asked and not answering else None,
        return_targets=runtime.return_targets(item.id) if actionable else [],
        on_behalf_of=policy.acting_for(db.session, current_user, item) if actionable else None,
        draft=draft,
        conflict=conflict,
        status_zh=WorkItemStatus.label_of(item.status),
        phrases=PHRASES,
        my_phrases=db.session.scalars(
            select(OpinionPhrase)
            .where(OpinionPhrase.user_id == current_user.id)
            .order_by(OpinionPhrase.id)
        ).all()
        if actionable
        else [],
        returned=next(
            (
                e
                for e in reversed(events)
                if e.kind == "returned" and e.work_item_id == item.previous_item_id
            ),
            None,
        )
        if item.previous_item_id and item.status == WorkItemStatus.OPEN
        else None,
        suspension=suspension_of(db.session, instance.id) if case is not None else None,
        copies=copies_of_instance(db.session, instance.id),
        colleagues=copy_recipients(db.session, current_user),
        handover=handover_colleagues(db.session, current_user, item) if actionable else [],
    ), status


# --- the form ----------------------------------------------------------------------


def revealed_fields(item: m.WorkItem, own: set[str], actionable: bool) -> set[str]:
    """Fields whose personal numbers the page shows in full: the step's own form to whoever
    works it (or worked it), every field to the case's receiving window."""
    mine = own if actionable or item.completed_by == current_user.username else set()
    return mine | revealed_keys(db.session, current_user, item.instance)


def task_schema(runtime: Runtime, item: m.WorkItem) -> dict:
    """The item's form schema, with a free-text 办理意见 where it asks for no opinion."""
    schema = runtime.form_schema(item) or {"type": "object"}
    properties = schema.get("properties") or {}
    if OPINION in properties:
        return schema
    return {**schema, "properties": {**properties, OPINION: OPINION_FIELD}}


def form_values(
    schema: dict,
    item: m.WorkItem,
    events: list[m.InstanceEvent],
    *,
    typed: dict | None = None,
    draft: TaskDraft | None = None,
) -> dict:
    """What the form shows: its own start (``prefill``), then the draft or what was just typed.

    A closed item shows what was submitted, and nothing else.
    """
    if item.status != WorkItemStatus.OPEN and typed is None:
        return {name: None for name in schema.get("properties") or {}} | (item.data or {})
    values = prefill(schema, item, events)
    values.update(typed if typed is not None else (draft.data if draft else {}))
    return values


def prefill(schema: dict, item: m.WorkItem, events: list[m.InstanceEvent]) -> dict:
    """What a step's form opens with, before any draft: its own fields only.

    Same-named process variables of other steps never flow in (the window's 受理意见
    is not a department's 审查意见). Shown from the case: the fields the person may
    not fill (``readOnly`` ones and the case's facts). A 受理 step (``step=intake``)
    opened again after 退回补正 shows the answers it gave itself. A required date the
    form gives no default starts at today, the center's local date. Everything else
    starts from the form's own ``default`` (drawn by ``app.schema_forms``) or empty.
    """
    properties = schema.get("properties") or {}
    data = item.instance.data or {}
    facts = operations.case_facts(db.session, item.instance)
    shown = operations.fixed_fields(schema, facts)
    values = {name: data[name] for name in shown if name in data}
    key, intake = INTAKE_STEP
    if (item.properties or {}).get(key) == intake:
        own = answered_at(events, item.bpmn_id)
        values |= {k: v for k, v in own.items() if k in properties and data.get(k) == v}
    today = center_clock(db.session).today().isoformat()
    required = set(schema.get("required") or ())
    for name, prop in properties.items():
        if name in values or not isinstance(prop, dict) or "default" in prop:
            continue
        if name in required and prop.get("format") == "date" and name not in shown:
            values[name] = today
    return values


def answered_at(events: list[m.InstanceEvent], bpmn_id: str) -> dict:
    """The values step ``bpmn_id`` submitted last for each key no later step submitted."""
    submitted: dict = {}
    for event in events:
        if event.kind != "task_completed" or not isinstance(event.data, dict):
            continue
        for key, value in event.data.items():
            submitted[key] = (event.bpmn_id, value)
    return {key: value for key, (step, value) in submitted.items() if step == bpmn_id}


def case_facts(data: dict) -> list[tuple[str, str]]:
    return [(label, str(data[key])) for key, label in CASE_FACTS if data.get(key)]


# --- history -----------------------------------------------------------------------


# --- drafts --------------------------------------------------------------------------


def load_draft(session, item_id: int, user_id: int) -> TaskDraft | None:
    return session.scalars(
        select(TaskDraft).where(TaskDraft.work_item_id == item_id, TaskDraft.user_id == user_id)
    ).first()


def save_draft(session, item_id: int, user_id: int, data: dict) -> TaskDraft:
    """Keep the user's unsent values for this item (one draft per item and person)."""
    draft = load_draft(session, item_id, user_id)
    if draft is None:
        draft = TaskDraft(work_item_id=item_id, user_id=user_id)
        session.add(draft)
    draft.data = data
    draft.saved_at = utcnow()
    return draft


def discard_drafts(session, item_id: int) -> None:
    """A completed item's drafts are of no use to anyone."""
    session.execute(delete(TaskDraft).where(TaskDraft.work_item_id == item_id))


# --- 常用意见 ---------------------------------------------------------------------------

MAX_PHRASES = 30


@requires("work")
def save_phrase(item_id: int):
    """Keep the text as one of my 常用意见 (at most MAX_PHRASES, no duplicates).

    The task page sends it with fetch (JSON answer) so that the form being filled
    is not left; without JavaScript the page reloads with a message.
    """
    text = (request.form.get("phrase") or "").strip()
    mine = db.session.scalars(
        select(OpinionPhrase).where(OpinionPhrase.user_id == current_user.id)
    ).all()
    saved = None
    if not text or len(text) > 200:
        message, ok = "常用意见须为 1–200 个字。", False
    elif text in PHRASES or any(p.text == text for p in mine):
        message, ok = "已有这条常用意见。", False
    elif len(mine) >= MAX_PHRASES:
        message, ok = f"常用意见最多保存 {MAX_PHRASES} 条，请先删除不用的。", False
    else:
        saved = OpinionPhrase(user_id=current_user.id, text=text)
        db.session.add(saved)
        db.session.commit()
        message, ok = "已保存为常用意见。", True
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            {"ok": ok, "message": message, "id": saved.id if saved else None, "text": text}
        )
    flash(message, "success" if ok else "danger")
    return redirect(url_for("desk.task", item_id=item_id))


@requires("work")
def delete_phrase(item_id: int, phrase_id: int):
    db.session.execute(
        delete(OpinionPhrase).where(
            OpinionPhrase.id == phrase_id, OpinionPhrase.user_id == current_user.id
        )
    )
    db.session.commit()
    flash("已删除常用意见。", "success")
    return redirect(url_for("desk.task", item_id=item_id))
