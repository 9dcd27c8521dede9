"""Window work on cases: receive, accept, 补正, refuse, withdraw, deliver.

Views and the API call these with plain values; each function changes one case
in the caller's transaction and issues the notice the applicant takes home.
The case's process starts at acceptance; its clock (the promised date) is
counted in working days from the day of acceptance.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clock import CenterClock, center_clock
from app.engine import platform_runtime
from app.errors import Conflict
from app.models.cases import (
    SPECIAL_PROCEDURES,
    Case,
    CaseEvent,
    CaseMaterial,
    CasePause,
    CaseSequence,
)
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Region
from app.vocabulary import (
    CaseChannel,
    CaseEventKind,
    CaseResult,
    CaseStatus,
    InstanceStatus,
    ItemStatus,
    WorkItemStatus,
)
from workflows import models as wm
from workflows.db import is_postgresql
from workflows.errors import InvalidTaskData, RuntimeErrorBase
from workflows.timeutil import utcnow

from . import corrections, delivery, documents, library, payments, permits
from .errors import CaseError
from .identity import identity_problem, phone_problem
from .intake_form import (
    INTAKE_STEP,
    PLATFORM_KEYS,
    editable,
    intake_schema,
    missing_answers,
    problems,
    problems_message,
    validate_intake,
)


class CaseSuspended(Conflict, RuntimeErrorBase):
    """The case is suspended (挂起): its work waits until a supervisor resumes it.

    Also a ``RuntimeErrorBase``: the runtime's guard raises it, and the desk's
    operation views catch runtime errors.
    """

    code = "case_suspended"


ANONYMOUS = "匿名"


@dataclass
class Applicant:
    type: str
    name: str
    id_number: str
    phone: str
    contact_name: str | None = None
    anonymous: bool = False  # 匿名投诉: a phone number only

    @classmethod
    def unnamed(cls, phone: str) -> Applicant:
        """Someone who leaves only a phone number (匿名投诉、办不成事)."""
        return cls("person", ANONYMOUS, "", phone, anonymous=True)

    def problems(self) -> dict[str, str]:
        found = {}
        if self.type not in ("person", "company"):
            found["applicant_type"] = "请选择个人或企业。"
        if not self.name.strip():
            found["applicant_name"] = "请填写申请人名称。"
        problem = None if self.anonymous else identity_problem(self.type, self.id_number)
        if problem:
            found["applicant_id_number"] = problem
        problem = phone_problem(self.phone)
        if problem:
            found["applicant_phone"] = problem
        return found


@dataclass
class Intake:
    """What the window enters when an application arrives."""

    item: Item
    applicant: Applicant
    place: Region
    received: set[int] = field(default_factory=set)  # ids of ItemMaterials received
    channel: str = CaseChannel.WINDOW
    green_channel: bool = False
    data: dict = field(default_factory=dict)  # the item's intake form (diagram), if any


# --- numbers and dates -------------------------------------------------------


def query_password_digest(number: str, password: str) -> str:
    """A keyed digest of a case's 6-digit query password (only 10^6 values: keyed, not slow)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{number}:{password}".encode(), hashlib.sha256).hexdigest()


def query_password_matches(case: Case, password: str) -> bool:
    expected = case.query_password_hash or ""
    return hmac.compare_digest(expected, query_password_digest(case.number, password.strip()))


def county_of(session, place: Region) -> Region:
    """The county (区县) a place belongs to; a county-level place is its own."""
    ids = [int(i) for i in place.path.strip("/").split("/") if i]
    county = session.scalars(
        select(Region).where(Region.id.in_(ids), Region.level == "county")
    ).first()
    if county is None:
        raise CaseError(f"{place.name}不在任何区县之下，无法编号。", "place")
    return county


def next_in_sequence(session, key: str, day: date) -> int:
    """The next number of the sequence ``key`` for ``day`` (row-locked; a sequence two
    requests start at once is created by one of them)."""
    for _attempt in range(5):
        row = session.scalars(
            select(CaseSequence)
            .where(CaseSequence.county_code == key, CaseSequence.day == day)
            .with_for_update()
        ).first()
        if row is None:
            try:
                with session.begin_nested():
                    row = CaseSequence(county_code=key, day=day, last=0)
                    session.add(row)
            except IntegrityError:
                continue
        row.last += 1
        session.flush()
        return row.last
    raise CaseError("办件编号分配冲突，请重试。")


def next_case_number(session, county: Region, day: date) -> str:
    """County code (6) + date (8) + sequence (5), unique per county and day."""
    return f"{county.code[:6]}{day:%Y%m%d}{next_in_sequence(session, county.code, day):05d}"


def promised_date(session, item: Item, accepted: datetime) -> date:
    """The promised date: the committed limit in working days after acceptance.

    即办件 (limit 0) are due the day they are handled, or the next working day
    when received after hours or on a rest day.
    """
    return center_clock(session).promised_date(accepted, item.committed_days)


# --- the steps at the window -------------------------------------------------


def _event(
    session,
    case: Case,
    kind: CaseEventKind,
    actor: str | None,
    message: str | None = None,
    data=None,
):
    session.add(CaseEvent(case_id=case.id, kind=kind, actor=actor, message=message, data=data))


def record(session, case: Case, kind: CaseEventKind, actor: str | None, message: str) -> None:
    """A line in the case's record written by another service (一件事)."""
    _event(session, case, kind, actor, message)


def _materials_facts(materials) -> list[dict]:
    return [{"name": m.name, "required": m.required} for m in materials]


def receive(session, intake: Intake, actor: str | None) -> tuple[Case, str]:
    """Register an application (申请) and issue the 申请材料接收凭证.

    Returns the case and its query password (shown once, given to the applicant).
    """
    problems = intake.applicant.problems()
    if problems:
        raise CaseError("申请人信息有误。", fields=problems)
    if intake.item.status != ItemStatus.PUBLISHED:
        raise CaseError(f"事项“{intake.item.name}”未发布，不能受理。", "item")
    validate_intake(session, intake.item, intake.data, complete=False)
    clock = center_clock(session)
    now = clock.now()
    county = county_of(session, intake.place)
    password = f"{secrets.randbelow(10**6):06d}"
    case = Case(
        number=next_case_number(session, county, clock.day_of(now)),
        item=intake.item,
        status=CaseStatus.APPLIED,
        channel=intake.channel,
        green_channel=intake.green_channel and intake.item.green_channel,
        applicant_type=intake.applicant.type,
        applicant_name=intake.applicant.name.strip(),
        applicant_id_number=intake.applicant.id_number.strip().upper(),
        applicant_phone=intake.applicant.phone.strip(),
        contact_name=intake.applicant.contact_name,
        place=intake.place,
        county=county,
        lead_department=intake.item.lead_department,
        data=intake.data,
        received_at=now,
        received_by=actor,
        decision_due=clock.decision_due(now),
    )
    case.query_password_hash = query_password_digest(case.number, password)
    for material in intake.item.materials:
        got = material.id in intake.received
        case.materials.append(
            CaseMaterial(
                item_material_id=material.id,
                name=material.name,
                required=material.required,
                received=got,
                received_at=now if got else None,
            )
        )
    session.add(case)
    session.flush()
    how = "网上申报" if intake.channel == CaseChannel.ONLINE else "收到申请"
    _event(session, case, CaseEventKind.RECEIVED, actor, f"{how}：{intake.item.name}")
    if own_process(intake.item):
        return case, password
    received = [m for m in case.materials if m.received]
    documents.issue(session, case, "receipt", actor=actor, materials=_materials_facts(received))
    return case, password


def missing_materials(case: Case) -> list[CaseMaterial]:
    return [m for m in case.materials if m.required and not m.received]


def _require_status(case: Case, *allowed: str) -> None:
    if case.status not in allowed:
        raise CaseError(f"办件当前为“{case.status_zh}”，不能进行此操作。")


def process_data(case: Case, clock: CenterClock) -> dict:
    """The data a case's process starts with (see docs/DIAGRAMS.md): the intake form's
    answers, then the case's facts, which always win."""
    shielded = own_process(case.item) and case.applicant_name == ANONYMOUS
    return {
        **(case.data or {}),
        "case_number": case.number,
        "item_code": case.item.code,
        "item_name": case.item.name,
        "applicant_type": case.applicant_type,
        "applicant_name": case.applicant_name,
        "applicant_id_number": case.applicant_id_number,
        # an anonymous complainant's phone stays on the case (the center's 回访), out of
        # the process every handler reads
        "contact_phone": None if shielded else case.applicant_phone,
        "place": case.place.code,
        "place_name": case.place.name,
        "lead_department": case.lead_department.name if case.lead_department else None,
        "accept_date": clock.day_of(case.accepted_at or clock.now()).isoformat(),
        "green_channel": case.green_channel,
    }


def accept(session, case: Case, actor: str | None, *, deemed: bool = False) -> Case:
    """受理: start the item's process, fix the promised date, issue the 受理通知书.

    A 即办件 is decided on the spot: no 受理通知书 (nothing to wait for), its
    decision is the applicant's paper. A deemed acceptance (Art. 32) cannot wait
    for missing answers: the process starts and its intake step stays open in the
    window's worklist to be completed.
    """
    _require_status(case, CaseStatus.APPLIED)
    missing = missing_materials(case)
    if missing and not deemed:
        names = "、".join(m.name for m in missing)
        raise CaseError(f"还缺少必要材料：{names}。请出具补正材料通知书（一次性告知），不能受理。")
    if not case.item.process_id:
        raise CaseError(f"事项“{case.item.name}”没有绑定流程，不能受理。")
    if not deemed:
        validate_intake(session, case.item, case.data or {}, complete=True)
    clock = center_clock(session)
    case.accepted_at = case.received_at if deemed else clock.now()
    case.accepted_by = actor
    case.accepted_on_day_received = deemed
    case.promised_date = clock.promised_date(case.accepted_at, case.item.committed_days)
    case.status = CaseStatus.ACCEPTED
    left_open = _start_process(session, case, actor, clock, deemed=deemed)
    message = "视为受理（逾期未告知补正）" if deemed else "受理"
    if left_open:
        message += f"；申请信息不完整，须在待办“{left_open}”中补齐"
    _event(session, case, CaseEventKind.ACCEPTED, actor, message)
    if own_process(case.item):
        return case
    library.capture_materials(session, case)  # 资料共享库
    if decided_on_the_spot(case.item):
        return case
    documents.issue(
        session,
        case,
        "acceptance",
        actor=actor,
        materials=_materials_facts([m for m in case.materials if m.received]),
        promised_date=case.promised_date.isoformat(),
        officer=actor,
    )
    return case


def own_process(item: Item) -> bool:
    """监督件 (差评整改, 投诉, 办不成事, app/feedback/): the center's own process about the
    applicant's voice. No 凭证 or 受理通知书, nothing for the 资料共享库; its answer ends
    it (no decision to deliver)."""
    return item.kind == FEEDBACK_KIND


def decided_on_the_spot(item: Item) -> bool:
    """即办件: decided at the window when accepted, no 受理通知书."""
    return item.kind == "instant"


def _start_process(
    session, case: Case, actor: str | None, clock: CenterClock, *, deemed: bool = False
) -> str | None:
    """Start the case's process and complete its intake step with the case's data.

    Returns the intake step's name when a deemed acceptance leaves it open (answers
    missing), else None.
    """
    runtime = platform_runtime(session)
    data = process_data(case, clock)
    instance = runtime.start(case.item.process_id, data=data, actor=actor)
    case.instance = instance
    session.flush()
    step = runtime.step_with(instance.definition_id, *INTAKE_STEP)
    if step is None:
        return None
    bpmn_id, schema = step
    item = next((w for w in runtime.open_work_items(instance.id) if w.bpmn_id == bpmn_id), None)
    if item is None:
        return None
    if deemed and problems(schema, data, complete=True):
        return item.name
    try:
        runtime.complete(item.id, data, item.version, actor or "system")
    except InvalidTaskData as exc:
        raise CaseError(problems_message(schema, exc.fields), fields=exc.fields) from None
    return None


def request_correction(
    session,
    case: Case,
    actor: str | None,
    note: str | None = None,
    rejected: set[int] = frozenset(),
) -> Case:
    """补正: list every missing material at once (一次性告知); the clock has not started.

    ``rejected`` are received materials the window found unfit (an unreadable scan
    sent online): they count as missing again, their file stays on the record.
    """
    _require_status(case, CaseStatus.APPLIED)
    unfit = [m for m in case.materials if m.id in rejected and m.received]
    for material in unfit:
        material.received, material.received_at = False, None
    missing = [
        {"name": m.name, "note": "不符合要求，请重新提交" if m in unfit else ""}
        for m in missing_materials(case)
    ]
    missing += [{"name": m.name, "note": "不符合要求，请重新提交"} for m in unfit if not m.required]
    unanswered = missing_answers(intake_schema(session, case.item), case.data or {})
    missing += [{"name": f"申请信息：{label}", "note": "未填写"} for label in unanswered]
    if not missing and not note:
        raise CaseError("材料已齐全；如需补正其他内容，请在说明中写明。", "note")
    case.status = CaseStatus.CORRECTING
    _event(session, case, CaseEventKind.CORRECTION_REQUESTED, actor, note)
    documents.issue(
        session, case, "correction", actor=actor, missing=missing, deadline_note=note or ""
    )
    return case


def correct_application(session, case: Case, actor: str | None, answers: dict) -> list[str]:
    """补充更正申请信息 before 受理: the window enters what the applicant brings.

    ``answers`` replace the form's editable answers (one left empty is removed);
    a missing answer may wait, a wrong one is refused with every field named.
    Returns the labels of the answers changed (none: nothing is recorded).
    """
    _require_status(case, CaseStatus.APPLIED, CaseStatus.CORRECTING)
    schema = intake_schema(session, case.item)
    if not schema:
        raise CaseError(f"事项“{case.item.name}”没有需要填写的申请信息。")
    before = case.data or {}
    names = editable(schema)
    after = {k: v for k, v in before.items() if k not in names}
    after.update({k: v for k, v in answers.items() if k in names})
    validate_intake(session, case.item, after, complete=False)
    properties = schema["properties"]
    changed = [n for n in properties if n in names and before.get(n) != after.get(n)]
    if not changed:
        return []
    labels = [str(properties[n].get("title") or n) for n in changed]
    case.data = after
    _event(
        session,
        case,
        CaseEventKind.APPLICATION_CORRECTED,
        actor,
        "、".join(labels),
        data={"changed": changed},
    )
    return labels


def receive_correction(session, case: Case, actor: str | None, received: set[int]) -> Case:
    """补正材料接收: mark what came in, issue the receipt; the case can then be accepted."""
    _require_status(case, CaseStatus.CORRECTING)
    validate_intake(session, case.item, case.data or {}, complete=True)
    clock = center_clock(session)
    now = clock.now()
    rounds = max((m.received_round for m in case.materials), default=0) + 1
    came = []
    for material in case.materials:
        if material.id in received and not material.received:
            material.received, material.received_at, material.received_round = True, now, rounds
            came.append(material)
    case.status = CaseStatus.APPLIED
    case.decision_due = clock.decision_due(now)  # 5 working days again from this local day
    _event(
        session,
        case,
        CaseEventKind.CORRECTION_RECEIVED,
        actor,
        "、".join(m.name for m in came) or None,
    )
    documents.issue(
        session, case, "correction_receipt", actor=actor, materials=_materials_facts(came)
    )
    return case


def refuse(session, case: Case, actor: str | None, reason: str) -> Case:
    """不予受理, with the reason; the case is closed."""
    _require_status(case, CaseStatus.APPLIED, CaseStatus.CORRECTING)
    if not reason or not reason.strip():
        raise CaseError("请写明不予受理的理由。", "reason")
    case.status = CaseStatus.REFUSED
    case.closed_at = utcnow()
    case.close_reason = reason.strip()
    _event(session, case, CaseEventKind.REFUSED, actor, reason.strip())
    documents.issue(session, case, "refusal", actor=actor, reason=reason.strip())
    return case


def withdraw(session, case: Case, actor: str | None, reason: str) -> Case:
    """撤件 at the applicant's request; a running process is terminated."""
    _require_status(case, CaseStatus.APPLIED, CaseStatus.CORRECTING, *CaseStatus.in_progress())
    if not reason or not reason.strip():
        raise CaseError("请写明撤件原因（申请人的请求）。", "reason")
    case.status = CaseStatus.WITHDRAWN
    case.closed_at = utcnow()
    case.close_reason = reason.strip()
    if case.instance is not None and case.instance.status in InstanceStatus.active():
        platform_runtime(session).terminate(
            case.instance.id, f"撤件：{reason.strip()}", actor or "system"
        )
    _event(session, case, CaseEventKind.WITHDRAWN, actor, reason.strip())
    return case


def deliver(
    session, case: Case, actor: str | None, method: str, receiver: str, *, together=False
) -> Case:
    """送达 the decision; issues the 送达回证.

    A case of a 一件事 package is handed out only with the others (统一出证,
    ``packages.deliver_package`` passes ``together``).
    """
    _require_status(case, CaseStatus.DECIDED)
    if case.package_case_id is not None and not together:
        raise CaseError("本件属于一件事，统一出证：请在一件事页面待全部事项办结后一并送达。")
    if delivered_in_process(session, case):
        raise CaseError("本事项的结果由流程中的送达步骤送达，请在待办中办理该步骤。")
    if not receiver or not receiver.strip():
        raise CaseError("请填写受送达人。", "receiver")
    _mark_delivered(session, case, actor, method, receiver.strip())
    return case


def delivered_in_process(session, case: Case) -> bool:
    """Whether the case's diagram delivers the result in a step of its own (still open)."""
    return case.instance is not None and _at_delivery(_waiting(session, case.instance))


def _mark_delivered(session, case: Case, actor, method: str, receiver: str) -> None:
    case.status = CaseStatus.DELIVERED
    clock = center_clock(session)
    case.delivered_at = clock.now()
    case.closed_at = case.delivered_at
    _event(session, case, CaseEventKind.DELIVERED, actor, f"{method}：{receiver}")
    documents.issue(
        session,
        case,
        "delivery",
        actor=actor,
        delivered_date=clock.day_of(case.delivered_at).isoformat(),
        method=method,
        receiver=receiver,
    )


def apply_deemed_acceptance(session, today: date) -> list[Case]:
    """Art. 32: an application not answered in time counts as accepted on the day received."""
    stmt = (
        select(Case)
        .where(Case.status == CaseStatus.APPLIED, Case.decision_due < today)
        .order_by(Case.id)
    )
    if is_postgresql(session):
        stmt = stmt.with_for_update(skip_locked=True)  # several schedulers never accept twice
    overdue = session.scalars(stmt).all()
    for case in overdue:
        accept(session, case, None, deemed=True)
    return list(overdue)


def decisions_due_soon(session, today: date, *, place_ids=None) -> list[Case]:
    """Applications whose 5-working-day answer is due today or earlier (warn the window)."""
    stmt = select(Case).where(Case.status == CaseStatus.APPLIED, Case.decision_due <= today)
    if place_ids is not None:
        stmt = stmt.where(Case.place_id.in_(place_ids))
    return list(session.scalars(stmt.order_by(Case.decision_due)))


ONLINE_QUEUE_SIZE = 100


def online_queue(session, *, place_ids=None) -> list[Case]:
    """网上预审: online applications waiting for the window's answer, oldest first."""
    stmt = select(Case).where(Case.status == CaseStatus.APPLIED, Case.channel == CaseChannel.ONLINE)
    if place_ids is not None:
        stmt = stmt.where(Case.place_id.in_(place_ids))
    return list(session.scalars(stmt.order_by(Case.received_at, Case.id).limit(ONLINE_QUEUE_SIZE)))


# --- following the process -----------------------------------------------------


# --- pauses: 补正 inside the process and 特别程序 (Art. 45) --------------------------


def open_pause(session, case: Case) -> CasePause | None:
    return session.scalars(
        select(CasePause).where(CasePause.case_id == case.id, CasePause.ended_at.is_(None))
    ).first()


def start_special_procedure(
    session,
    case: Case,
    actor: str | None,
    procedure: str,
    reason: str,
    expected_end: date | None = None,
) -> CasePause:
    """特别程序: the limit stops; the applicant gets the 特别程序告知书."""
    _require_status(case, *CaseStatus.in_progress())
    if procedure not in SPECIAL_PROCEDURES:
        raise CaseError("请选择特别程序的种类。", "procedure")
    if not reason or not reason.strip():
        raise CaseError("请填写需要特别程序的理由。", "reason")
    if open_pause(session, case) is not None:
        raise CaseError("办件已在暂停计时中，请先结束当前的暂停。")
    clock = center_clock(session)
    now = clock.now()
    if expected_end is not None and expected_end < clock.day_of(now):
        raise CaseError("预计结束日期不能早于今天。", "expected_end")
    pause = CasePause(
        case_id=case.id,
        kind="special",
        procedure=procedure,
        reason=reason.strip(),
        expected_end=expected_end,
        started_at=now,
        started_by=actor,
    )
    session.add(pause)
    _event(session, case, CaseEventKind.PAUSED, actor, f"{procedure}：{reason.strip()}")
    documents.issue(
        session,
        case,
        "special_procedure",
        actor=actor,
        procedure=procedure,
        start=clock.day_of(now).isoformat(),
        reason=reason.strip(),
        expected_end=expected_end.isoformat() if expected_end else None,
    )
    return pause


def end_pause(session, case: Case, actor: str | None, note: str | None = None) -> CasePause:
    """The clock runs again; the promised date moves by the working days paused."""
    pause = open_pause(session, case)
    if pause is None:
        raise CaseError("办件没有在暂停计时。")
    clock = center_clock(session)
    now = clock.now()
    pause.ended_at, pause.ended_by, pause.end_note = now, actor, (note or "").strip() or None
    pause.paused_workdays = clock.workdays_spanned(pause.started_at, now)
    if case.promised_date is not None and pause.paused_workdays:
        case.promised_date = clock.add_workdays(case.promised_date, pause.paused_workdays)
    message = f"{pause.title}结束，暂停 {pause.paused_workdays} 个工作日"
    if case.promised_date is not None:
        message += f"，承诺办结日期顺延至 {case.promised_date.isoformat()}"
    _event(
        session,
        case,
        CaseEventKind.RESUMED,
        actor,
        message + (f"。{pause.end_note}" if pause.end_note else "。"),
    )
    return pause


def end_special_procedure(session, case: Case, actor: str | None, note: str | None = None):
    """The window ends a 特别程序 (never a supervisor's 挂起 or a 补正 wait)."""
    pause = open_pause(session, case)
    if pause is None or pause.kind != "special":
        raise CaseError("办件没有正在进行的特别程序。")
    return end_pause(session, case, actor, note)


def suspend(session, case: Case, actor: str, reason: str) -> CasePause:
    """挂起 by a supervisor: nobody may work the case and its clock stops until resumed."""
    _require_status(case, *CaseStatus.in_progress())
    if not reason or not reason.strip():
        raise CaseError("请填写挂起理由。", "reason")
    current = open_pause(session, case)
    if current is not None:
        raise CaseError(f"办件正在“{current.title}”中，不能再挂起。")
    pause = CasePause(case_id=case.id, kind="suspended", reason=reason.strip(), started_by=actor)
    session.add(pause)
    _event(session, case, CaseEventKind.SUSPENDED, actor, reason.strip())
    return pause


def resume(session, case: Case, actor: str, note: str | None = None) -> CasePause:
    pause = open_pause(session, case)
    if pause is None or pause.kind != "suspended":
        raise CaseError("办件没有被挂起。")
    return end_pause(session, case, actor, note)


def suspension_of(session, instance_id: int) -> CasePause | None:
    """The open 挂起 of the case whose process this is, if any."""
    return session.scalars(
        select(CasePause)
        .join(Case, Case.id == CasePause.case_id)
        .where(
            Case.instance_id == instance_id,
            CasePause.kind == "suspended",
            CasePause.ended_at.is_(None),
        )
    ).first()


def refuse_if_suspended(session, instance_id: int) -> None:
    """Work on a suspended case is refused (the runtime itself knows nothing of cases)."""
    pause = suspension_of(session, instance_id)
    if pause is not None:
        raise CaseSuspended(f"办件已被挂起，暂停办理：{pause.reason}")


class SuspensionGuard:
    """The runtime's guard (``workflows.runtime.Guard``): nobody works a suspended case.

    Asked before every change people make to a running instance (claim, release,
    complete and the approval operations); administrative changes (撤件, 终止,
    retry) and timers are not asked.
    """

    def may_change(self, session, instance, action: str) -> None:
        refuse_if_suspended(session, instance.id)


def decision_facts(session, case: Case, clock: CenterClock) -> None:
    """The decision's local day and the working days it took: from the first working day
    after acceptance to the day of the decision, less the working days paused."""
    case.decided_on = clock.day_of(case.decided_at)
    if case.accepted_at is None:
        case.used_workdays = None
        return
    start = clock.first_working_day(case.accepted_at)
    spent = (
        clock.calendar.workdays_between(start, case.decided_on) if case.decided_on > start else 0
    )
    paused = session.scalar(
        select(func.coalesce(func.sum(CasePause.paused_workdays), 0)).where(
            CasePause.case_id == case.id
        )
    )
    case.used_workdays = max(0, spent - int(paused or 0))


def _pauses_for_correction(item) -> bool:
    """A step where the case waits for the applicant: the clock stops while it is open."""
    return (item.properties or {}).get("clock") == "paused" or _is_intake(item)


def _follow_correction(session, case: Case, waiting: list, completed: list) -> None:
    """Pause while the process waits at a 补正 step; resume when it moves on.

    The step that asked for 补正 (corrections.asking_step) has its list told to the
    applicant at once: the 补正材料通知书 is issued as the clock stops.
    """
    correcting = any(_pauses_for_correction(w) for w in waiting)
    pause = open_pause(session, case)
    if correcting and pause is None:
        session.add(
            CasePause(
                case_id=case.id,
                kind="correction",
                reason="流程退回补正，等待申请人补正材料",
                started_at=utcnow(),  # before the notice's issue: the notice belongs to it
            )
        )
        _event(session, case, CaseEventKind.PAUSED, None, "退回补正：等待申请人补正材料，暂停计时")
        asked = corrections.asking_step(completed)
        if asked is not None:
            facts = corrections.notice_facts(session, asked)
            documents.issue(session, case, "correction", actor=asked.completed_by, **facts)
    elif not correcting and pause is not None and pause.kind == "correction":
        end_pause(session, case, None, "补正材料已接收")


def _is_intake(item) -> bool:
    return (item.properties or {}).get(INTAKE_STEP[0]) == INTAKE_STEP[1]


def _delivers(item) -> bool:
    return (item.properties or {}).get("case_status") == CaseStatus.DELIVERED


def _waiting(session, instance) -> list:
    """The open work items of a running instance (none once it has ended)."""
    if instance.status != InstanceStatus.RUNNING:
        return []
    return list(
        session.scalars(
            select(wm.WorkItem).where(
                wm.WorkItem.instance_id == instance.id, wm.WorkItem.status == WorkItemStatus.OPEN
            )
        )
    )


def _at_delivery(waiting: list) -> bool:
    """The process waits only at its own delivery steps: the decision has been made."""
    return bool(waiting) and all(_delivers(w) for w in waiting)


class CaseObserver:
    """Keeps a case's status in step with its process (办理中, 办结, 送达, 终止), and
    issues the 缴费通知书 when the process comes to wait for ``缴费完成``."""

    def instance_saved(self, session, instance, completed) -> None:
        case = session.scalars(select(Case).where(Case.instance_id == instance.id)).first()
        if case is None or case.status in (
            CaseStatus.WITHDRAWN,
            CaseStatus.REFUSED,
            CaseStatus.DELIVERED,
        ):
            return
        if case.status == CaseStatus.ACCEPTED and any(not _is_intake(w) for w in completed):
            case.status = CaseStatus.PROCESSING
        waiting = _waiting(session, instance)  # read once for both questions
        if case.status in CaseStatus.in_progress():
            _follow_correction(session, case, waiting, completed)
        delivered = next((w for w in completed if _delivers(w)), None)
        decided_now = case.status != CaseStatus.DECIDED and (
            instance.status == InstanceStatus.COMPLETED or _at_delivery(waiting)
        )
        if decided_now:
            self._decided(session, case, instance, completed)
        if delivered is not None and case.status == CaseStatus.DECIDED:
            data = delivered.data or {}
            receiver = str(data.get("receiver_name") or case.applicant_name)
            _mark_delivered(session, case, delivered.completed_by, "窗口直接送达", receiver)
        if decided_now and case.status == CaseStatus.DECIDED:
            delivery.result_ready(session, case)  # 待送达 at the receiving window
        if instance.status == InstanceStatus.RUNNING and case.status in (
            *CaseStatus.in_progress(),
            CaseStatus.DECIDED,
        ):
            payments.notice_due(session, case, instance)  # 缴费通知书 at a payment step
        if instance.status == InstanceStatus.TERMINATED and case.status in CaseStatus.in_progress():
            case.status = CaseStatus.TERMINATED
            case.closed_at = utcnow()
            case.close_reason = instance.end_reason

    def _decided(self, session, case: Case, instance, completed=()) -> None:
        if own_process(case.item):
            self._answered(session, case, instance)
            return
        data = instance.data or {}
        result = data.get("result") or data.get("decision")
        case.result = CaseResult.parse(result) or CaseResult.APPROVE
        case.status = CaseStatus.DECIDED
        clock = center_clock(session)
        case.decided_at = clock.now()
        decision_facts(session, case, clock)
        _event(session, case, CaseEventKind.DECIDED, None, case.result.label)
        decision = documents.issue(
            session,
            case,
            "decision",
            actor=None,
            result=case.result,
            opinion=str(data.get("result_text") or data.get("opinion") or ""),
            certificate_no=data.get("certificate_no") or data.get("registration_no"),
            decided_date=clock.day_of(case.decided_at).isoformat(),
            **permits.permit_facts(session, instance, completed, PLATFORM_KEYS),
        )
        library.capture_result(session, case, decision)  # 资料共享库: approvals only

    def _answered(self, session, case: Case, instance) -> None:
        """A 监督件 ends with its answer: recorded, closed, nothing to deliver."""
        answer = str((instance.data or {}).get("result_text") or "")
        now = center_clock(session).now()
        case.result = CaseResult.APPROVE
        case.decided_at = case.delivered_at = case.closed_at = now
        decision_facts(session, case, center_clock(session))
        case.status = CaseStatus.DELIVERED
        _event(session, case, CaseEventKind.DECIDED, None, answer[:2000] or "办结")
