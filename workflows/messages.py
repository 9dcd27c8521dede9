"""Messages and signals from outside the diagram, and between instances.

A running instance may wait for a message (receive task, message catch or
boundary event, a branch of an event-based gateway) or a signal. Each save of
a change mirrors those waits in ``instance_wait`` rows (``mirror_waits``), so a
delivery finds the waiting instance with one indexed query by kind, name and
correlation, and restores only that instance's workflow.

- A **message** goes to exactly one instance: the one whose wait has the
  message's name and the same correlation (``{"case_number": "…"}`` by
  default, or the values of the correlation properties the diagram declares).
  When nothing waits, a process whose start event catches the message is
  started (its newest version).
- A **signal** goes to every instance waiting for it, optionally only those of
  one process.

Delivery locks the instance (``Runtime.change``) and checks the wait again
inside the lock, so of two deliveries racing for one wait exactly one wins.
A client-supplied id makes a delivery idempotent (``delivered_message``).

Messages and signals an instance throws itself (send task, throw and end
events) that it does not catch itself are written to ``message_outbox`` in the
thrower's transaction and delivered after it commits (``deliver_outbox``):
delivering inside the thrower's transaction would lock a second instance while
holding the first, and two instances messaging each other would deadlock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from weakref import WeakKeyDictionary

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import models as m
from . import spiff_compat
from .checks import instance_status_zh
from .db import is_postgresql
from .errors import InstanceNotActive, NotFound, RuntimeErrorBase
from .forms import check_keys

# The correlation key of a wait when the diagram declares none: the case number.
DEFAULT_KEY = "case_number"
MAX_CORRELATION_CHARS = 1000
KIND_ZH = {m.MESSAGE: "消息", m.SIGNAL: "信号"}
# Outcomes that close a thrown message; any other refusal (the receiver's guard) is retried.
FINAL_ERRORS = (
    "nothing_waits",
    "already_received",
    "ambiguous_message",
    "instance_not_active",
    "not_found",
    "invalid_data",
)


class NothingWaits(NotFound):
    """No instance waits for the message or signal and no process starts on it."""

    code = "nothing_waits"


class AlreadyReceived(RuntimeErrorBase):
    """The wait was there, but another delivery took it first."""

    code = "already_received"
    http_status = 409


class MessageIdReused(RuntimeErrorBase):
    """The same message id came back with different content."""

    code = "message_id_reused"
    http_status = 409


class AmbiguousMessage(RuntimeErrorBase):
    """Several instances wait for the message with the same correlation."""

    code = "ambiguous_message"
    http_status = 409


@dataclass
class Delivery:
    """What a delivery did: instances that received it, started, or were skipped."""

    kind: str
    name: str
    received: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"instance", "status"} not running
    repeated: bool = False  # the same id was delivered before; this is its first result

    def to_dict(self) -> dict:
        return asdict(self)


# --- the wait mirror ---------------------------------------------------------------


def correlation_text(correlation: dict) -> str:
    """The canonical form correlations are stored and looked up in."""
    values = {str(k): str(v) for k, v in (correlation or {}).items() if v is not None}
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def each_definition(definition) -> list:
    """The event definitions a task waits for (an event-based gateway waits for several)."""
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def kind_of(definition) -> str | None:
    if isinstance(definition, MessageEventDefinition):
        return m.MESSAGE
    if isinstance(definition, SignalEventDefinition):
        return m.SIGNAL
    return None


_CATCHES: WeakKeyDictionary = WeakKeyDictionary()


def catches_anything(specs) -> bool:
    """Whether a process (or its subprocesses) can wait for a message or signal (cached)."""
    found = _CATCHES.get(specs.spec)
    if found is None:
        every = [specs.spec, *specs.subprocess_specs.values()]
        found = any(
            kind_of(definition)
            for spec in every
            for ts in spec.task_specs.values()
            if isinstance(ts, CatchingEvent)
            for definition in each_definition(ts.event_definition)
        )
        _CATCHES[specs.spec] = found
    return found


def waits(workflow, instance_data: dict) -> list[dict]:
    """``{task, bpmn_id, kind, name, correlation}`` of each message or signal the workflow waits for."""
    found = []
    for task in spiff_compat.waiting_event_tasks(workflow):
        for definition in each_definition(task.task_spec.event_definition):
            kind = kind_of(definition)
            if kind is None:
                continue
            context = {**instance_data, **task.data}
            found.append(
                {
                    "task": task,
                    "definition": definition,
                    "bpmn_id": task.task_spec.bpmn_id,
                    "kind": kind,
                    "name": definition.name,
                    "correlation": _wait_correlation(task, definition, context)
                    if kind == m.MESSAGE
                    else "{}",
                }
            )
    return found


def _wait_correlation(task, definition, context: dict) -> str:
    """The declared correlation properties' values in the case data, else its case number."""
    properties = getattr(definition, "correlation_properties", None) or []
    values = {}
    for prop in properties:
        try:
            values[prop.name] = task.workflow.script_engine.environment.evaluate(
                prop.retrieval_expression, dict(context)
            )
        except Exception:  # a property the data cannot give yet is simply absent
            continue
    if not properties and context.get(DEFAULT_KEY) not in (None, ""):
        values[DEFAULT_KEY] = context[DEFAULT_KEY]
    return correlation_text(values)[:MAX_CORRELATION_CHARS]


def mirror_waits(change) -> None:
    """Rewrite the instance's ``instance_wait`` rows from its workflow (inside ``_save``)."""
    instance, runtime = change.instance, change.runtime
    if not catches_anything(runtime.process_specs(instance.definition_id)):
        return
    if instance.status == m.TERMINATED:
        return  # kept: a late message is told the case was terminated, not that nothing waits
    if not change.new:
        change.session.execute(
            delete(m.InstanceWait).where(m.InstanceWait.instance_id == instance.id)
        )
    if instance.status not in (m.RUNNING, m.ERROR):
        return
    rows = [
        {
            "instance_id": instance.id,
            "task_id": str(w["task"].id),
            "bpmn_id": w["bpmn_id"],
            "kind": w["kind"],
            "name": w["name"],
            "correlation": w["correlation"],
            "created_at": runtime.clock(),
        }
        for w in waits(change.workflow, instance.data or {})
    ]
    if rows:
        change.session.execute(insert(m.InstanceWait), rows)


def pending_waits(session, instance: m.ProcessInstance) -> list[m.InstanceWait]:
    """The messages and signals an instance waits for (for its page and the API)."""
    if instance.status not in (m.RUNNING, m.ERROR):
        return []
    instance_id = instance.id
    return list(
        session.scalars(
            select(m.InstanceWait)
            .where(m.InstanceWait.instance_id == instance_id)
            .order_by(m.InstanceWait.id)
        )
    )


def wait_correlation(wait: m.InstanceWait) -> dict:
    """A wait row's correlation as a dict."""
    try:
        value = json.loads(wait.correlation or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def describe_wait(wait: m.InstanceWait) -> str:
    """A wait in words for the case page: “等待消息：缴费完成（办件编号 …）”."""
    keys = wait_correlation(wait)
    words = "，".join(f"办件编号 {v}" if k == DEFAULT_KEY else f"{k} {v}" for k, v in keys.items())
    return f"等待{KIND_ZH.get(wait.kind, wait.kind)}：{wait.name}" + (
        f"（{words}）" if words else ""
    )


# --- the outbox ----------------------------------------------------------------------


def write_outbox(change) -> bool:
    """Keep what the instance threw and nobody inside it caught; True if anything was kept."""
    thrown = change.workflow.get_events()
    rows = []
    for event in thrown:
        kind = kind_of(event.event_definition)
        if kind is None:
            continue
        payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
        rows.append(
            {
                "source_instance_id": change.instance.id,
                "kind": kind,
                "name": event.event_definition.name,
                "correlation": _thrown_correlation(event, payload),
                "payload": json.loads(json.dumps(payload, default=str)),
                "created_at": change.runtime.clock(),
            }
        )
        change.event(f"{kind}_sent", message=event.event_definition.name)
    if rows:
        change.session.execute(insert(m.MessageOutbox), rows)
    return bool(rows)


def _thrown_correlation(event, payload: dict) -> dict:
    """The correlation properties SpiffWorkflow computed, else the payload's case number."""
    values = {}
    for props in (event.correlations or {}).values():
        if isinstance(props, dict):
            values.update(props)
    if not values and payload.get(DEFAULT_KEY) not in (None, ""):
        values[DEFAULT_KEY] = payload[DEFAULT_KEY]
    return json.loads(correlation_text(values))


def deliver_outbox(runtime, limit: int = 100, keep=None) -> list[dict]:
    """Deliver thrown messages and signals, one transaction each; commits.

    Several processes may drain at once: on PostgreSQL each claims its row with
    ``FOR UPDATE SKIP LOCKED``. A message nobody waits for is closed with its
    reason; one the receiver's guard refused (a suspended case) stays pending
    with the reason and is tried again by a later call. ``keep(payload)``
    returns the part of a thrown payload the receiver may take (the platform
    drops its case facts: a Camunda throw sends all of the thrower's data).
    """
    session, done, seen = runtime.session, [], set()
    for _ in range(limit):
        stmt = (
            select(m.MessageOutbox)
            .where(m.MessageOutbox.delivered_at.is_(None))
            .order_by(m.MessageOutbox.id)
            .limit(1)
            .execution_options(populate_existing=True)
        )
        if seen:
            stmt = stmt.where(m.MessageOutbox.id.not_in(seen))
        if is_postgresql(session):
            stmt = stmt.with_for_update(skip_locked=True)
        row = session.scalars(stmt).first()
        if row is None:
            break
        seen.add(row.id)
        result = _deliver_thrown(runtime, row, keep)
        retry = result.get("error") not in (None, *FINAL_ERRORS)
        session.execute(
            update(m.MessageOutbox)
            .where(m.MessageOutbox.id == row.id)
            .values(delivered_at=None if retry else runtime.clock(), result=result)
        )
        session.commit()
        done.append({"outbox": row.id, **result})
    session.commit()
    return done


def _deliver_thrown(runtime, row: m.MessageOutbox, keep) -> dict:
    payload = keep(row.payload) if keep is not None else row.payload
    savepoint = runtime.session.begin_nested()
    try:
        if row.kind == m.MESSAGE:
            delivery = deliver_message(runtime, row.name, row.correlation, payload)
        else:
            delivery = broadcast_signal(runtime, row.name, payload)
        savepoint.commit()
        return delivery.to_dict()
    except RuntimeErrorBase as exc:
        savepoint.rollback()
        return {"error": exc.code, "message": exc.message}


# --- delivery ----------------------------------------------------------------------


def deliver_message(
    runtime,
    name: str,
    correlation: dict | None = None,
    data: dict | None = None,
    *,
    message_id: str | None = None,
    actor: str | None = None,
    may_deliver=None,
) -> Delivery:
    """Deliver a message to the one instance waiting for it, or start a process on it.

    ``may_deliver(instance)`` (the platform's permission check) raises to refuse.
    """
    data = check_keys(data if data is not None else {})
    correlation = correlation or {}
    content = {"name": name, "correlation": correlation, "data": data}
    return _once(
        runtime,
        m.MESSAGE,
        message_id,
        content,
        actor,
        lambda: _deliver_message(runtime, name, correlation, data, message_id, actor, may_deliver),
    )


def broadcast_signal(
    runtime,
    name: str,
    data: dict | None = None,
    *,
    process_id: str | None = None,
    signal_id: str | None = None,
    actor: str | None = None,
    may_deliver=None,
) -> Delivery:
    """Deliver a signal to every instance waiting for it (only ``process_id``'s if given)."""
    data = check_keys(data if data is not None else {})
    content = {"name": name, "process_id": process_id, "data": data}
    return _once(
        runtime,
        m.SIGNAL,
        signal_id,
        content,
        actor,
        lambda: _broadcast(runtime, name, data, process_id, signal_id, actor, may_deliver),
    )


def _once(runtime, kind, message_id, content, actor, deliver) -> Delivery:
    """Run ``deliver`` once per client id: the same id and content get the first result."""
    if message_id is None:
        return deliver()
    session = runtime.session
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    stored = _delivered(session, kind, message_id)
    if stored is None:
        try:
            with session.begin_nested():
                session.add(
                    m.DeliveredMessage(
                        kind=kind,
                        message_id=message_id,
                        digest=digest,
                        delivered_by=actor,
                        delivered_at=runtime.clock(),
                    )
                )
                session.flush()
        except IntegrityError:  # a concurrent delivery of the same id committed first
            stored = _delivered(session, kind, message_id)
    if stored is not None:
        if stored.digest != digest:
            raise MessageIdReused(
                f"{KIND_ZH[kind]}编号 {message_id} 已用于内容不同的另一条{KIND_ZH[kind]}，"
                "请换一个编号。",
                message_id=message_id,
            )
        return Delivery(**{**(stored.result or {}), "repeated": True})
    delivery = deliver()
    session.execute(
        update(m.DeliveredMessage)
        .where(m.DeliveredMessage.kind == kind, m.DeliveredMessage.message_id == message_id)
        .values(result=delivery.to_dict())
    )
    return delivery


def _delivered(session, kind, message_id) -> m.DeliveredMessage | None:
    return session.scalars(
        select(m.DeliveredMessage)
        .where(m.DeliveredMessage.kind == kind, m.DeliveredMessage.message_id == message_id)
        .execution_options(populate_existing=True)
    ).first()


def _waiting_instances(session, kind, name, correlation=None, process_id=None) -> list[int]:
    stmt = select(m.InstanceWait.instance_id).where(
        m.InstanceWait.kind == kind, m.InstanceWait.name == name
    )
    if correlation is not None:
        stmt = stmt.where(m.InstanceWait.correlation == correlation)
    if process_id is not None:
        owner = select(m.ProcessInstance.id).where(m.ProcessInstance.process_id == process_id)
        stmt = stmt.where(m.InstanceWait.instance_id.in_(owner))
    return sorted(set(session.scalars(stmt)))


def _deliver_message(runtime, name, correlation, data, message_id, actor, may_deliver):
    key = correlation_text(correlation)
    waiting = _waiting_instances(runtime.session, m.MESSAGE, name, key)
    delivery = Delivery(m.MESSAGE, name)
    if not waiting:
        definition = message_start_definition(runtime, name)
        if definition is None:
            raise NothingWaits(
                f"没有办件在等待消息“{name}”（关联 {key}），也没有流程由它启动。",
                name=name,
                correlation=correlation,
            )
        instance = runtime.start(
            definition.process_id,
            version=definition.version,
            actor=actor,
            trigger=lambda change: _catch(change, m.MESSAGE, name, data, message_id, actor),
        )
        delivery.started.append(instance.id)
        return delivery
    if len(waiting) > 1:
        raise AmbiguousMessage(
            f"有 {len(waiting)} 个办件在等待消息“{name}”且关联相同，请给出能区分办件的关联键。",
            instances=waiting,
        )
    _receive(runtime, waiting[0], m.MESSAGE, name, data, message_id, actor, may_deliver)
    delivery.received.append(waiting[0])
    return delivery


def _broadcast(runtime, name, data, process_id, signal_id, actor, may_deliver):
    delivery = Delivery(m.SIGNAL, name)
    for instance_id in _waiting_instances(runtime.session, m.SIGNAL, name, process_id=process_id):
        if may_deliver is not None:
            may_deliver(runtime.get_instance(instance_id))
        try:
            with runtime.session.begin_nested():
                _receive(runtime, instance_id, m.SIGNAL, name, data, signal_id, actor, None)
            delivery.received.append(instance_id)
        except RuntimeErrorBase as exc:  # not running, suspended, already received: skipped
            if exc.http_status != 409:
                raise
            delivery.skipped.append({"instance": instance_id, "reason": exc.message})
    if not delivery.received and not delivery.skipped:
        scope = f"流程 {process_id} 中" if process_id else ""
        raise NothingWaits(f"{scope}没有办件在等待信号“{name}”。", name=name)
    return delivery


def _receive(runtime, instance_id, kind, name, data, message_id, actor, may_deliver) -> None:
    """Lock the instance, check it still waits, let it catch and run on."""
    if may_deliver is not None:
        may_deliver(runtime.get_instance(instance_id))
    with runtime.change(instance_id, actor, action=f"receive_{kind}") as change:
        instance = change.instance
        if instance.status != m.RUNNING:
            raise InstanceNotActive(
                f"办件当前状态为“{instance_status_zh(instance.status)}”，不能接收{KIND_ZH[kind]}"
                f"“{name}”。",
                status=instance.status,
                instance=instance.id,
            )
        if _catch(change, kind, name, data, message_id, actor):
            change.advance()


class _NoLongerWaiting(Exception):
    """SpiffWorkflow found nothing to catch the event (raised out of ``Change.engine``)."""


def _catch(change, kind, name, data, message_id, actor) -> bool:
    """Let the change's workflow catch the event; refused if nothing in it waits any more."""
    workflow = change.workflow
    waiting = [
        w
        for w in waits(workflow, change.instance.data or {})
        if (w["kind"], w["name"]) == (kind, name)
    ]
    if not waiting:
        raise AlreadyReceived(
            f"该办件已不再等待{KIND_ZH[kind]}“{name}”（已被接收或流程已离开等待点）。",
            instance=change.instance.id,
        )
    definition = waiting[0]["definition"]
    event = BpmnEvent(definition, payload=dict(data), correlations=dict(workflow.correlations))

    def send():
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            raise _NoLongerWaiting from exc

    try:
        caught = change.engine(send)  # a failure inside the engine stops the instance
    except _NoLongerWaiting:
        raise AlreadyReceived(
            f"该办件已不再等待{KIND_ZH[kind]}“{name}”。", instance=change.instance.id
        ) from None
    # The delivered data becomes case data whatever the diagram's dialect keeps of it.
    for task in {id(w["task"]): w["task"] for w in waiting}.values():
        if task.state != TaskState.WAITING:
            task.data.update(data)
    extra = {"message_id": message_id} if message_id else None
    change.event(f"{kind}_received", task=waiting[0]["task"], actor=actor, message=name, data=extra)
    return caught


def message_start_definition(runtime, name: str) -> m.ProcessDefinition | None:
    """The newest version of a process whose start event catches message ``name``."""
    newest = {}
    for definition in runtime.session.scalars(
        select(m.ProcessDefinition).order_by(m.ProcessDefinition.version)
    ):
        newest[definition.process_id] = definition
    for definition in sorted(newest.values(), key=lambda d: d.id):
        spec = runtime.process_specs(definition.id).spec
        for ts in spec.task_specs.values():
            event = getattr(ts, "event_definition", None)
            if isinstance(ts, StartEvent) and kind_of(event) == m.MESSAGE and event.name == name:
                return definition
    return None
