"""API request handlers: parse the request, call the runtime, commit, answer."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from app import once, policy
from app.cases import services as case_services
from app.cases.access import can_view_case, revealed_keys
from app.cases.history import case_history
from app.cases.intake_form import PLATFORM_KEYS, check_intake_data
from app.cases.places import may_receive_at
from app.desk import operations
from app.engine import platform_runtime
from app.errors import BadRequest, Conflict, Forbidden
from app.extensions import db
from app.limits import MAX_ID, bounded_int
from app.messages.services import waits_described
from app.models.cases import Case
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Region
from app.policy import requires
from app.privacy import mask
from app.vocabulary import CaseChannel, WorkItemStatus
from workflows import models as m
from workflows.deployments import UploadedFile, deploy
from workflows.errors import InvalidTaskData, NotFound
from workflows.forms import MAX_JSON_DEPTH, json_problem

from .serialize import instance_json, iso, work_item_json

MAX_PAGE = 500
# the channels another system may name (差评整改 is the platform's own)
API_CHANNELS = (CaseChannel.WINDOW, CaseChannel.ONLINE, CaseChannel.PROXY, CaseChannel.API)


def _json_body() -> dict:
    if not request.data:
        return {}
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest(f"请求体 JSON 嵌套超过 {MAX_JSON_DEPTH} 层。") from None
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象。")
    problem = json_problem(body)
    if problem:
        raise BadRequest("请求体" + problem)
    return body


def _version(body: dict, required: bool = False) -> int | None:
    value = body.get("version")
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise BadRequest("version 必须是整数（打开待办时看到的版本号）。")
    return value


def _runtime():
    return platform_runtime()


def api_user():
    return policy.acting_user()


def _visible_instance(runtime, instance_id: int):
    instance = runtime.get_instance(instance_id)
    if not policy.can_view_instance(db.session, api_user(), instance):
        raise Forbidden("无权查看该办件。")
    return instance


def _managed_instance(runtime, instance_id: int):
    """The instance, if the caller manages its region (terminate, retry)."""
    instance = runtime.get_instance(instance_id)
    if not policy.manages_instance(db.session, api_user(), instance):
        raise Forbidden("该办件不在您管理的区域内。")
    return instance


def _revealed(instance) -> frozenset[str]:
    return revealed_keys(db.session, api_user(), instance)


def _instance_body(runtime, instance, *, with_history: bool = False) -> dict:
    """An instance's state and open work; the full history only where asked (it grows)."""
    return instance_json(
        instance,
        work_items=runtime.open_work_items(instance.id),
        history=runtime.history(instance.id) if with_history else None,
        reveal=_revealed(instance),
    )


@requires("deploy")
def create_deployment():
    uploads = request.files.getlist("files")
    if not uploads:
        raise BadRequest("请用 multipart 字段 files 上传一个或多个文件。")
    files = [UploadedFile(u.filename or "unnamed", u.read()) for u in uploads]
    result = deploy(db.session, files, actor=api_user().username)
    db.session.commit()
    body = {
        "deployment": result.deployment.id,
        "created": result.created,
        "processes": [
            {"id": d.process_id, "version": d.version, "name": d.name} for d in result.definitions
        ],
        "warnings": [w.to_dict() for w in result.warnings],
    }
    return jsonify(body), 201 if result.created else 200


@requires(policy.STAFF)
def list_processes():
    definitions = db.session.scalars(
        select(m.ProcessDefinition).order_by(
            m.ProcessDefinition.process_id, m.ProcessDefinition.version
        )
    )
    processes: dict[str, dict] = {}
    for d in definitions:
        entry = processes.setdefault(d.process_id, {"id": d.process_id, "versions": []})
        entry.update(name=d.name, latest_version=d.version)
        entry["versions"].append(
            {
                "version": d.version,
                "name": d.name,
                "deployment": d.deployment_id,
                "created_at": d.created_at.isoformat() + "Z",
            }
        )
    return jsonify({"processes": list(processes.values())})


@requires("intake")
def start_instance():
    body = _json_body()
    process_id = body.get("process_id")
    if not isinstance(process_id, str) or not process_id:
        raise BadRequest("缺少 process_id。")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise InvalidTaskData("data 必须是 JSON 对象。", {})
    _check_start_data(data)

    def start():
        runtime = _runtime()
        instance = runtime.start(
            process_id, version=_version(body), data=data, actor=api_user().username
        )
        return _instance_body(runtime, instance), 201

    return _created_once(body, start)


def _created_once(body: dict, create):
    """Commit what ``create`` makes and answer it; under an ``Idempotency-Key`` only once:
    the same key and body from the same caller get the stored answer, nothing more."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        answer, status = create()
        db.session.commit()
        return jsonify(answer), status
    user, digest = api_user(), once.request_digest(body)
    stored = once.stored_answer(db.session, user.id, key, digest)
    if stored is None and not once.claim_key(db.session, user.id, key, digest):
        stored = once.stored_answer(db.session, user.id, key, digest)
    if stored is not None:
        if not stored.status:
            raise Conflict("同一 Idempotency-Key 的请求正在处理，请稍后再查询。")
        return jsonify(stored.body), stored.status
    answer, status = create()
    once.keep_answer(db.session, user.id, key, status, answer)
    db.session.commit()
    return jsonify(answer), status


def _check_start_data(data: dict) -> None:
    """Starting a process directly: without the facts only a case gives (number,
    applicant, item: ``POST /cases`` sets those) unless a platform administrator does
    it; at a place the caller receives for or manages; without a place only by those
    who manage instances."""
    user = api_user()
    facts = {
        key: "办件信息由平台填写，请通过 POST /cases 受理办件。"
        for key in data
        if key in PLATFORM_KEYS and key != "place"
    }
    if facts and not user.is_admin:
        raise InvalidTaskData("data 含有只能由平台填写的办件信息。", facts)
    if data.get("place") in (None, ""):
        if not policy.has(user, "instances.manage"):
            raise Forbidden("缺少 place（办理地点的区划代码）。")
        return
    place = db.session.scalars(select(Region).where(Region.code == str(data["place"]))).first()
    if place is None or not (
        may_receive_at(db.session, user, place) or policy.manages_place(db.session, user, place)
    ):
        raise Forbidden("place 不在您的受理范围内（或区划代码不存在）。")


@requires(policy.STAFF)
def get_instance(instance_id: int):
    runtime = _runtime()
    instance = _visible_instance(runtime, instance_id)
    body = _instance_body(runtime, instance, with_history=True)
    body["waits"] = [{**w, "since": iso(w["since"])} for w in waits_described(db.session, instance)]
    return jsonify(body)


@requires("instances.manage")
def terminate_instance(instance_id: int):
    body = _json_body()
    runtime = _runtime()
    _managed_instance(runtime, instance_id)
    instance = runtime.terminate(instance_id, str(body.get("reason") or ""), api_user().username)
    db.session.commit()
    return jsonify(_instance_body(runtime, instance))


@requires("instances.manage")
def retry_instance(instance_id: int):
    body = _json_body()
    runtime = _runtime()
    _managed_instance(runtime, instance_id)
    instance = runtime.retry(instance_id, api_user().username, version=_version(body))
    db.session.commit()
    return jsonify(_instance_body(runtime, instance))


def _int_arg(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        return bounded_int(value)
    except ValueError:
        raise BadRequest(f"参数 {name} 必须是整数（不超过 {MAX_ID}）。") from None


@requires(policy.STAFF)
def list_work_items():
    stmt = select(m.WorkItem)
    seen = policy.work_items_seen(db.session, api_user())
    if seen is not None:
        stmt = stmt.where(seen)
    instance = _int_arg("instance")
    if instance is not None:
        stmt = stmt.where(m.WorkItem.instance_id == instance)
    stmt = stmt.where(m.WorkItem.status == request.args.get("status", WorkItemStatus.OPEN))
    if request.args.get("lane"):
        stmt = stmt.where(m.WorkItem.lane == request.args["lane"])
    if request.args.get("assignee"):
        stmt = stmt.where(m.WorkItem.assignee == request.args["assignee"])
    limit = min(max(_int_arg("limit", 100), 1), MAX_PAGE)
    offset = max(_int_arg("offset", 0), 0)
    items = db.session.scalars(
        stmt.order_by(m.WorkItem.priority.desc(), m.WorkItem.id).limit(limit).offset(offset)
    )
    return jsonify(
        {"work_items": [work_item_json(i) for i in items], "limit": limit, "offset": offset}
    )


@requires(policy.STAFF)
def get_work_item(item_id: int):
    runtime = _runtime()
    item = runtime.work_item(item_id)
    if not (
        policy.can_act(db.session, api_user(), item)
        or policy.can_view_instance(db.session, api_user(), item.instance)
    ):
        raise Forbidden("无权查看该待办。")
    return jsonify(work_item_json(item, form_schema=runtime.form_schema(item)))


@requires("work")
def claim_work_item(item_id: int):
    version = _version(_json_body())
    item = operations.claim(db.session, _runtime(), api_user(), item_id, version)
    db.session.commit()
    return jsonify(work_item_json(item))


@requires("work")
def release_work_item(item_id: int):
    version = _version(_json_body())
    item = operations.release(db.session, _runtime(), api_user(), item_id, version)
    db.session.commit()
    return jsonify(work_item_json(item))


@requires("work")
def complete_work_item(item_id: int):
    body = _json_body()
    version = _version(body, required=True)
    runtime = _runtime()
    instance = operations.complete(
        db.session, runtime, api_user(), item_id, body.get("data", {}), version
    )
    db.session.commit()
    return jsonify(_instance_body(runtime, instance))


@requires("timers")
def fire_timers():
    fired = _runtime().fire_due_timers(limit=current_app.config.get("TIMER_BATCH", 100))
    return jsonify(
        {
            "fired": [
                {"instance": f.instance_id, "timers": f.timers, "status": f.status} for f in fired
            ]
        }
    )


# --- cases (the window's intake, for other systems) ------------------------------


def _case_json(case) -> dict:
    return {
        "number": case.number,
        "status": case.status,
        "status_zh": case.status_zh,
        "item": {"code": case.item.code, "name": case.item.name, "kind": case.item.kind},
        "applicant": {
            "type": case.applicant_type,
            "name": case.applicant_name,
            "id_number": mask(case.applicant_id_number),
        },
        "place": {"code": case.place.code, "name": case.place.name},
        "channel": case.channel,
        "green_channel": case.green_channel,
        "received_at": iso(case.received_at),
        "decision_due": case.decision_due.isoformat() if case.decision_due else None,
        "accepted_at": iso(case.accepted_at),
        "promised_date": case.promised_date.isoformat() if case.promised_date else None,
        "decided_at": iso(case.decided_at),
        "result": case.result,
        "delivered_at": iso(case.delivered_at),
        "missing_materials": [m.name for m in case.materials if m.required and not m.received],
        "documents": [
            {
                "kind": d.kind,
                "verification_code": d.verification_code,
                "issued_at": iso(d.issued_at),
            }
            for d in case.documents
        ],
        "instance": case.instance_id,
    }


def _case_intake(body: dict):
    item = db.session.scalars(
        select(Item).where(Item.code == str(body.get("item_code") or ""))
    ).first()
    if item is None:
        raise BadRequest("item_code 不存在。")
    if item.kind == FEEDBACK_KIND:
        raise BadRequest("监督件（差评整改、投诉、办不成事）不能通过受理接口创建。")
    place = db.session.scalars(
        select(Region).where(Region.code == str(body.get("place") or ""))
    ).first()
    if place is None or not may_receive_at(db.session, api_user(), place):
        raise Forbidden("place 不在您的受理范围内（或区划代码不存在）。")
    applicant = body.get("applicant") or {}
    if not isinstance(applicant, dict):
        raise InvalidTaskData(
            "applicant 必须是 JSON 对象（type、name、id_number、phone）。",
            {"applicant": "类型不正确"},
        )
    materials = body.get("materials") or []
    if not isinstance(materials, list) or not all(isinstance(n, str | int) for n in materials):
        raise InvalidTaskData(
            "materials 必须是材料名称（或编号）的列表。", {"materials": "类型不正确"}
        )
    if not isinstance(body.get("data", {}), dict):
        raise InvalidTaskData("data 必须是 JSON 对象。", {"data": "类型不正确"})
    names = {str(n) for n in materials}
    received = {m.id for m in item.materials if m.name in names or str(m.id) in names}
    return case_services.Intake(
        item=item,
        applicant=case_services.Applicant(
            type=str(applicant.get("type") or "person"),
            name=str(applicant.get("name") or ""),
            id_number=str(applicant.get("id_number") or ""),
            phone=str(applicant.get("phone") or ""),
            contact_name=str(applicant["contact_name"]) if applicant.get("contact_name") else None,
        ),
        place=place,
        received=received,
        channel=CaseChannel.parse(body.get("channel"))
        if body.get("channel") in API_CHANNELS
        else CaseChannel.API,
        green_channel=bool(body.get("green_channel")),
        data=check_intake_data(db.session, item, body.get("data") or {}),
    )


@requires("intake")
def create_case():
    """Receive an application; ``action`` "accept" (default) or "receive" (answer later)."""
    body = _json_body()
    action = body.get("action", "accept")
    if action not in ("accept", "receive"):
        raise BadRequest("action 只能是 accept 或 receive。")

    def create():
        try:
            case, password = case_services.receive(
                db.session, _case_intake(body), api_user().username
            )
            if action == "accept":
                case_services.accept(db.session, case, api_user().username)
        except case_services.CaseError as exc:
            db.session.rollback()
            fields = dict(exc.fields)
            if exc.field:
                fields[exc.field] = exc.message
            raise InvalidTaskData(exc.message, fields)
        return {**_case_json(case), "query_password": password}, 201

    return _created_once(body, create)


@requires(policy.STAFF)
def get_case(number: str):
    """The case and its history (the window's acts and the process's steps, as on its page)."""
    case = db.session.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        raise NotFound(f"办件 {number} 不存在。")
    if not can_view_case(db.session, api_user(), case):
        raise Forbidden("无权查看该办件。")
    history = [
        {
            "at": iso(row.at),
            "step": row.step,
            "actor": row.actor,
            "on_behalf_of": row.on_behalf_of,
            "decision": row.decision,
            "opinion": row.opinion,
        }
        for row in case_history(db.session, _runtime(), case)
    ]
    return jsonify({**_case_json(case), "history": history})


# --- approval operations: 退回, 撤回, 转办, 委派, 加签/减签 ---------------------------------


def _done(instance_or_item):
    db.session.commit()
    if isinstance(instance_or_item, m.WorkItem):
        return jsonify(work_item_json(instance_or_item))
    return jsonify(instance_json(instance_or_item, reveal=_revealed(instance_or_item)))


@requires("work")
def return_targets(item_id: int):
    targets = operations.return_targets(db.session, _runtime(), api_user(), item_id)
    return jsonify({"targets": targets})


@requires("work")
def return_work_item(item_id: int):
    body = _json_body()
    instance = operations.return_to(
        db.session,
        _runtime(),
        api_user(),
        item_id,
        str(body.get("target") or ""),
        str(body.get("reason") or ""),
        version=_version(body),
    )
    return _done(instance)


@requires("work")
def take_back_work_item(item_id: int):
    body = _json_body()
    reason = body.get("reason")
    return _done(
        operations.take_back(db.session, _runtime(), api_user(), item_id, reason and str(reason))
    )


def _hand_over(item_id: int, operation):
    """转办 or 委派: ``{"to", "reason", "version"?}``."""
    body = _json_body()
    item = operation(
        db.session,
        _runtime(),
        api_user(),
        item_id,
        str(body.get("to") or ""),
        str(body.get("reason") or ""),
        version=_version(body),
    )
    return _done(item)


@requires("work")
def transfer_work_item(item_id: int):
    return _hand_over(item_id, operations.transfer)


@requires("work")
def delegate_work_item(item_id: int):
    return _hand_over(item_id, operations.delegate)


@requires("work")
def answer_delegation(item_id: int):
    body = _json_body()
    item = operations.answer_delegation(
        db.session,
        _runtime(),
        api_user(),
        item_id,
        str(body.get("answer") or ""),
        version=_version(body),
    )
    return _done(item)


@requires(policy.STAFF)
def list_signers(instance_id: int):
    runtime = _runtime()
    _visible_instance(runtime, instance_id)
    step = request.args.get("step", "")
    return jsonify({"step": step, "signers": runtime.signers(instance_id, step)})


@requires("work")
def change_signers(instance_id: int):
    body = _json_body()
    instance = operations.change_signers(
        db.session,
        _runtime(),
        api_user(),
        instance_id,
        str(body.get("step") or ""),
        body.get("signer"),
        str(body.get("reason") or ""),
        add=request.method == "POST",
    )
    return _done(instance)
