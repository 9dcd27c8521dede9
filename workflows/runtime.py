"""The runtime service: start instances, complete work, fire timers.

Every change of an instance happens inside the caller's transaction, after
locking the instance row (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite takes
the write lock when the transaction begins), in a ``Change`` (``change.py``)
that collects what the call did and saves it at the end. A work item is
checked against the version the user saw, never against the instance
revision, so reviewers in parallel branches never invalidate each other: they
simply queue on the lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from . import messages, operations, spiff_compat, timers
from . import models as m
from .change import Change
from .checks import check_open, check_running, instance_status_zh, raise_conflict
from .db import is_postgresql
from .deployments import latest_definition
from .errors import InstanceNotActive, MigrationImpossible, NotFound, WorkItemConflict
from .forms import check_keys, validate_task_data
from .sandbox import SandboxScriptEngine
from .seams import Assigner, Guard, Observer
from .specs import DefinitionSource, ProcessSpecs, SpecCache
from .state import LiveWorkflows, find_task, serializer_for, to_json_data
from .steps import task_properties
from .timeutil import utcnow

SPECS = SpecCache()
LIVE = LiveWorkflows()
SCRIPT_ENGINE = SandboxScriptEngine()


@dataclass
class TimerFired:
    instance_id: int
    timers: list[str]
    status: str


class Runtime:
    """Runtime operations on one SQLAlchemy session; the caller commits."""

    def __init__(
        self,
        session,
        *,
        specs=SPECS,
        live=LIVE,
        script_engine=SCRIPT_ENGINE,
        clock=utcnow,
        assigner: Assigner | None = None,
        observer: Observer | None = None,
        guard: Guard | None = None,
    ):
        self.session = session
        self.specs = specs
        self.live = live
        self.script_engine = script_engine
        self.clock = clock
        self.assigner = assigner
        self.observer = observer
        self.guard = guard

    # --- definitions ------------------------------------------------------

    def definition(self, process_id: str, version: int | None = None) -> m.ProcessDefinition:
        """The given version of a process, or its newest."""
        if version is None:
            definition = latest_definition(self.session, process_id)
        else:
            definition = self.session.scalars(
                select(m.ProcessDefinition).where(
                    m.ProcessDefinition.process_id == process_id,
                    m.ProcessDefinition.version == version,
                )
            ).first()
        if definition is None:
            suffix = "" if version is None else f" 的第 {version} 版"
            raise NotFound(f"流程 {process_id}{suffix} 不存在。")
        return definition

    def step_with(self, definition_id: int, key: str, value: str) -> tuple[str, dict | None] | None:
        """The first user task whose extension property ``key`` equals ``value``, and its form.

        E.g. ``step=intake``: the task the window's 受理台 completes at acceptance.
        """
        specs = self.process_specs(definition_id)
        for spec in specs.spec.task_specs.values():
            if task_properties(spec).get(key) == value and getattr(spec, "manual", False):
                form = specs.forms.get(spec.bpmn_id)
                return spec.bpmn_id, (form["schema"] if form else None)
        return None

    def process_specs(self, definition_id: int) -> ProcessSpecs:
        return self.specs.get(definition_id, self._definition_source)

    def _definition_source(self, definition_id: int) -> DefinitionSource:
        definition = self.session.get(m.ProcessDefinition, definition_id)
        files = definition.deployment.files
        return DefinitionSource(
            dialect=definition.deployment.dialect,
            process_id=definition.process_id,
            bpmn=[(f.name, f.content) for f in files if f.kind == "bpmn"],
            dmn=[(f.name, f.content) for f in files if f.kind == "dmn"],
            called_definitions=definition.called_definitions or {},
            forms=_forms_in_file_order(definition.forms or {}, files),
        )

    # --- changes -------------------------------------------------------------

    def change(
        self,
        instance_id: int,
        actor: str | None = None,
        *,
        action: str | None = None,
        autoflush: bool = True,
    ) -> AbstractContextManager[Change]:
        """``with runtime.change(id, actor) as change:`` lock the instance and change it.

        ``action`` names the user work for the guard (``seams.GUARDED_ACTIONS``);
        None for administrative and automatic changes, which the guard never
        sees. ``autoflush=False`` keeps queries inside the change from flushing
        first (the completion path). The change is saved when the block ends
        normally.
        """
        return self._change(partial(self._lock, instance_id), actor, action, autoflush)

    def change_for_item(
        self,
        work_item_id: int,
        actor: str | None = None,
        *,
        action: str | None = None,
        autoflush: bool = True,
    ) -> AbstractContextManager[Change]:
        """Like ``change``, for the instance a work item belongs to."""
        return self._change(partial(self._lock_for_item, work_item_id), actor, action, autoflush)

    @contextmanager
    def _change(
        self, lock: Callable[[], m.ProcessInstance], actor, action, autoflush
    ) -> Iterator[Change]:
        with nullcontext() if autoflush else self.session.no_autoflush:
            instance = lock()
            if action is not None:
                self._ask_guard(instance, action)
            change = Change(self, instance, actor)
            yield change
            change.finish()

    def _ask_guard(self, instance: m.ProcessInstance, action: str) -> None:
        """Once per user-work call, before anything changes; the guard raises to refuse."""
        if self.guard is not None:
            self.guard.may_change(self.session, instance, action)

    # --- instances --------------------------------------------------------

    def start(
        self, process_id, *, version=None, data=None, actor=None, trigger=None
    ) -> m.ProcessInstance:
        """Start an instance and run it to its first wait state.

        ``trigger(change)``, if given, runs at that wait state (a message start
        event catching its message) and the instance runs on.
        """
        definition = self.definition(process_id, version)
        data = check_keys(data if data is not None else {})
        specs = self.process_specs(definition.id)
        workflow = BpmnWorkflow(
            specs.spec, specs.subprocess_specs, script_engine=self.script_engine
        )
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        now = self.clock()
        instance = m.ProcessInstance(
            definition_id=definition.id,
            process_id=definition.process_id,
            status=m.RUNNING,
            revision=0,
            started_by=actor,
            created_at=now,
            updated_at=now,
        )
        self.session.add(instance)
        self.session.flush()
        change = Change(self, instance, new=True)
        change.workflow = workflow
        change.event("started", actor=actor, data=to_json_data(data))
        change.advance()
        if trigger is not None and trigger(change) is not False:
            change.advance()
        change.finish()
        return instance

    def get_instance(self, instance_id: int) -> m.ProcessInstance:
        instance = self.session.get(m.ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"办件实例 {instance_id} 不存在。")
        return instance

    def complete(
        self, work_item_id: int, data, version: int, actor: str, on_behalf_of: str | None = None
    ) -> m.ProcessInstance:
        """Complete a work item with the data and the item version the user saw.

        ``on_behalf_of`` names the colleague whose work this is when the actor
        acts as their backup (AB角); history records it.
        """
        with self.change_for_item(
            work_item_id, actor, action="complete", autoflush=False
        ) as change:
            instance = change.instance
            item = change.work_item(work_item_id)
            validate_task_data(self._form_of(instance.definition_id, item.bpmn_id), data)
            check_open(item, version, actor)
            check_running(instance)
            task = find_task(change.workflow, UUID(item.task_id))
            if task is None or task.state != TaskState.READY:
                raise WorkItemConflict("该待办对应的流程步骤已不再等待办理，请刷新。")
            task.data.update(data)
            item.status = m.DONE
            item.completed_at = self.clock()
            item.completed_by = actor
            item.on_behalf_of = on_behalf_of
            item.data = to_json_data(data)
            item.version += 1
            change.completed.append(item)
            change.event(
                "task_completed",
                task=task,
                item=item,
                actor=actor,
                data=item.data,
                on_behalf_of=on_behalf_of,
            )
            change.run(task)
        return instance

    def claim(self, work_item_id: int, actor: str, version: int | None = None) -> m.WorkItem:
        """Take a work item for oneself; nobody else can complete it meanwhile."""
        item = self.work_item(work_item_id)
        if self.guard is not None:  # claim and release do not lock the instance
            self._ask_guard(item.instance, "claim")
        if item.status == m.OPEN and item.assignee == actor:
            return item
        conditions = [
            m.WorkItem.id == work_item_id,
            m.WorkItem.status == m.OPEN,
            m.WorkItem.assignee.is_(None),
        ]
        if version is not None:
            conditions.append(m.WorkItem.version == version)
        changed = self.session.execute(
            update(m.WorkItem)
            .where(*conditions)
            .values(assignee=actor, claimed_at=self.clock(), version=m.WorkItem.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        item = self.work_item(work_item_id, refresh=True)
        if not changed:
            raise_conflict(item, version, actor)
        self._record(item, "claimed", actor)
        return item

    def release(self, work_item_id: int, actor: str, version: int | None = None) -> m.WorkItem:
        """Give a claimed work item back to the pool."""
        if self.guard is not None:
            self._ask_guard(self.work_item(work_item_id).instance, "release")
        conditions = [
            m.WorkItem.id == work_item_id,
            m.WorkItem.status == m.OPEN,
            m.WorkItem.assignee == actor,
        ]
        if version is not None:
            conditions.append(m.WorkItem.version == version)
        changed = self.session.execute(
            update(m.WorkItem)
            .where(*conditions)
            .values(assignee=None, claimed_at=None, version=m.WorkItem.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        item = self.work_item(work_item_id, refresh=True)
        if not changed:
            if item.status == m.OPEN and item.assignee != actor:
                raise WorkItemConflict("只能释放自己认领的待办。")
            raise_conflict(item, version, actor)
        self._record(item, "released", actor)
        return item

    def _record(self, item: m.WorkItem, kind: str, actor: str) -> None:
        """A history row for a change of a work item alone (claim, release)."""
        change = Change(self, item.instance, actor)
        change.event(kind, item=item, actor=actor)
        change.finish()

    def terminate(self, instance_id: int, reason: str, actor: str) -> m.ProcessInstance:
        """End an instance early; its open work is cancelled."""
        if not reason or not reason.strip():
            raise InstanceNotActive("终止办件必须填写原因。")
        with self.change(instance_id) as change:
            instance = change.instance
            if instance.status in (m.COMPLETED, m.TERMINATED):
                raise InstanceNotActive(f"办件已{instance_status_zh(instance.status)}，不能终止。")
            change.workflow.cancel()
            instance.status = m.TERMINATED
            instance.ended_at = self.clock()
            instance.end_reason = reason.strip()
            instance.error = None
            change.event("terminated", actor=actor, message=reason.strip())
        return instance

    def retry(self, instance_id: int, actor: str, version: int | None = None) -> m.ProcessInstance:
        """Run the failed step again, optionally on another version of the diagram."""
        with self.change(instance_id) as change:
            instance = change.instance
            if instance.status != m.ERROR:
                raise InstanceNotActive("只有出错的办件才能重试。")
            if version is not None:
                self._migrate(change, self.definition(instance.process_id, version))
            for task in change.workflow.get_tasks(state=TaskState.ERROR):
                spiff_compat.set_state(task, TaskState.READY)
            waiting = self._failed_waiting_task(change.workflow, instance.error)
            instance.status = m.RUNNING
            instance.error = None
            change.event("retried", actor=actor, message=f"version={version}" if version else None)
            if waiting is None or change.engine(lambda: spiff_compat.update(waiting)):
                change.advance()
        return instance

    @staticmethod
    def _failed_waiting_task(workflow, error: dict | None):
        """A step that failed while it was being reached (a timer's value): it is updated again."""
        task_id = (error or {}).get("task_id")
        task = find_task(workflow, UUID(task_id)) if task_id else None
        if task is None or not task.has_state(TaskState.FUTURE | TaskState.WAITING):
            return None
        return task

    def history(self, instance_id: int) -> list[m.InstanceEvent]:
        """Everything that happened to an instance, oldest first (no workflow restore)."""
        return list(
            self.session.scalars(
                select(m.InstanceEvent)
                .where(m.InstanceEvent.instance_id == instance_id)
                .order_by(m.InstanceEvent.id)
            )
        )

    def open_work_items(self, instance_id: int, refresh: bool = False) -> list[m.WorkItem]:
        stmt = (
            select(m.WorkItem)
            .where(m.WorkItem.instance_id == instance_id, m.WorkItem.status == m.OPEN)
            .order_by(m.WorkItem.id)
        )
        if refresh:
            stmt = stmt.execution_options(populate_existing=True)
        return list(self.session.scalars(stmt))

    def work_item(self, work_item_id: int, refresh: bool = False) -> m.WorkItem:
        stmt = select(m.WorkItem).where(m.WorkItem.id == work_item_id)
        if refresh:
            stmt = stmt.execution_options(populate_existing=True)
        item = self.session.scalars(stmt).first()
        if item is None:
            raise NotFound(f"待办 {work_item_id} 不存在。")
        return item

    def form_schema(self, item: m.WorkItem) -> dict | None:
        """The JSON Schema of a work item's form, if its task has one."""
        return self._form_of(item.instance.definition_id, item.bpmn_id)

    def restore(self, instance: m.ProcessInstance):
        """A fresh copy of the stored workflow (the live cache is left alone)."""
        specs = self.process_specs(instance.definition_id)
        workflow = serializer_for(specs.dialect).loads(self._state_text(instance.id), specs)
        workflow.script_engine = self.script_engine
        return workflow

    # --- approval operations (operations.py) ------------------------------------

    def return_targets(self, work_item_id: int) -> list[dict]:
        """Steps an open work item may be returned to, the most recent first (for the UI)."""
        return operations.return_targets(self, work_item_id)

    def return_to(
        self,
        work_item_id: int,
        target_bpmn_id: str,
        actor: str,
        reason: str,
        version: int | None = None,
    ) -> m.ProcessInstance:
        """退回: send the case back from an open step to an earlier one it passed through."""
        return operations.return_to(self, work_item_id, target_bpmn_id, actor, reason, version)

    def take_back(self, work_item_id: int, actor: str, reason: str | None = None):
        """撤回: take back my completed step while the step(s) it opened are untouched."""
        return operations.take_back(self, work_item_id, actor, reason)

    def take_back_offers(self, items: list[m.WorkItem], actor: str) -> set[int]:
        """Which of ``items`` ``actor`` may take back now (to offer 撤回 only there)."""
        return operations.take_back_offers(self, items, actor)

    def transfer(
        self, work_item_id: int, actor: str, to_user: str, reason: str, version: int | None = None
    ) -> m.WorkItem:
        """转办: hand an open work item over to a colleague, who owns it from now on."""
        return operations.transfer(self, work_item_id, actor, to_user, reason, version)

    def delegate(
        self, work_item_id: int, actor: str, to_user: str, reason: str, version: int | None = None
    ) -> m.WorkItem:
        """委派: ask a colleague for an opinion; the owner completes the item after the answer."""
        return operations.delegate(self, work_item_id, actor, to_user, reason, version)

    def resolve_delegation(
        self, work_item_id: int, actor: str, answer: str, version: int | None = None
    ) -> m.WorkItem:
        """The delegate answers; the item goes back to its owner, who must complete it."""
        return operations.resolve_delegation(self, work_item_id, actor, answer, version)

    def add_signer(self, instance_id: int, bpmn_id: str, signer, actor: str, reason: str):
        """加签: add a signer to a running 会签 (multi-instance user task)."""
        return operations.add_signer(self, instance_id, bpmn_id, signer, actor, reason)

    def remove_signer(self, instance_id: int, bpmn_id: str, signer, actor: str, reason: str):
        """减签: take a signer who has not signed yet out of a running 会签."""
        return operations.remove_signer(self, instance_id, bpmn_id, signer, actor, reason)

    def signers(self, instance_id: int, bpmn_id: str) -> list[dict]:
        """The signers of a running 会签 and where each stands (for the 加签/减签 UI)."""
        return operations.signers(self, instance_id, bpmn_id)

    # --- messages and signals (messages.py) ------------------------------------

    def deliver_message(self, name, correlation=None, data=None, **options) -> messages.Delivery:
        """Deliver a message to the instance waiting for it (or start a process on it)."""
        return messages.deliver_message(self, name, correlation, data, **options)

    def broadcast_signal(self, name, data=None, **options) -> messages.Delivery:
        """Deliver a signal to every instance waiting for it."""
        return messages.broadcast_signal(self, name, data, **options)

    def deliver_outbox(self, limit: int = 100, keep=None) -> list[dict]:
        """Deliver what instances threw; one commit per message (``keep`` filters payloads)."""
        return messages.deliver_outbox(self, limit, keep)

    def waits(self, instance_id: int) -> list[m.InstanceWait]:
        """The messages and signals an instance waits for (no workflow restore)."""
        return messages.pending_waits(self.session, self.get_instance(instance_id))

    # --- timers -----------------------------------------------------------

    def fire_due_timers(self, now: datetime | None = None, limit: int = 100) -> list[TimerFired]:
        """Advance every instance whose timer is due; commits once per instance.

        Several scheduler processes may call this at once: on PostgreSQL each
        claims its instance with ``FOR UPDATE SKIP LOCKED``, so no timer fires twice.
        """
        now = now or self.clock()
        fired, seen = [], set()
        for _ in range(limit):
            instance = self._claim_due(now, seen)
            if instance is None:
                break
            seen.add(instance.id)
            try:
                names = self._fire(instance, now)
                fired.append(TimerFired(instance.id, names, instance.status))
                self.session.commit()
            except Exception as exc:
                self.session.rollback()
                self._record_failure(instance.id, exc)
        self.session.commit()
        return fired

    def _claim_due(self, now, seen) -> m.ProcessInstance | None:
        stmt = (
            select(m.ProcessInstance)
            .where(
                m.ProcessInstance.status == m.RUNNING,
                m.ProcessInstance.next_timer_at <= now,
            )
            .order_by(m.ProcessInstance.next_timer_at)
            .limit(1)
            .execution_options(populate_existing=True)
        )
        if seen:
            stmt = stmt.where(m.ProcessInstance.id.not_in(seen))
        if is_postgresql(self.session):
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).first()

    def _fire(self, instance, now) -> list[str]:
        """Fire the timers of a claimed (locked) instance that are due at ``now``."""
        change = Change(self, instance)
        fired = timers.fire_due(change.workflow, now)
        for task, definition in fired:
            change.event("timer_fired", task=task, message=definition.name)
        if change.engine(change.workflow.refresh_timers):
            change.advance()
        change.finish()
        return [task.task_spec.bpmn_id or task.task_spec.name for task, _ in fired]

    def _record_failure(self, instance_id: int, exc: Exception) -> None:
        with self.change(instance_id) as change:
            change.instance.status = m.ERROR
            change.instance.error = {
                "message": f"定时器处理失败：{exc}",
                "detail": f"{type(exc).__name__}: {exc}",
                "bpmn_id": None,
                "task_id": None,
            }
            change.event("error", message=str(exc))
        self.live.discard(instance_id)
        self.session.commit()

    # --- internals --------------------------------------------------------

    def _form_of(self, definition_id: int, bpmn_id: str) -> dict | None:
        form = self.process_specs(definition_id).forms.get(bpmn_id)
        return form["schema"] if form else None

    def _lock_for_item(self, work_item_id: int) -> m.ProcessInstance:
        owner = select(m.WorkItem.instance_id).where(m.WorkItem.id == work_item_id)
        return self._lock_where(
            m.ProcessInstance.id == owner.scalar_subquery(), f"待办 {work_item_id} 不存在。"
        )

    def _lock(self, instance_id: int) -> m.ProcessInstance:
        return self._lock_where(
            m.ProcessInstance.id == instance_id, f"办件实例 {instance_id} 不存在。"
        )

    def _lock_where(self, condition, missing: str) -> m.ProcessInstance:
        stmt = (
            select(m.ProcessInstance)
            .where(condition)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        instance = self.session.scalars(stmt).first()
        if instance is None:
            raise NotFound(missing)
        return instance

    def _state_text(self, instance_id: int) -> str:
        return self.session.scalar(
            select(m.InstanceState.state).where(m.InstanceState.instance_id == instance_id)
        )

    def _migrate(self, change: Change, definition: m.ProcessDefinition) -> None:
        """Give the change the stored workflow on another version of its diagram."""
        instance = change.instance
        specs = self.process_specs(definition.id)
        state = self._state_text(instance.id)
        missing = _missing_task_specs(json.loads(state), specs)
        if missing:
            raise MigrationImpossible(
                f"新版本流程缺少当前办件用到的步骤：{'、'.join(sorted(missing))}，无法迁移。",
                missing=sorted(missing),
            )
        workflow = serializer_for(specs.dialect).loads(state, specs)
        workflow.script_engine = self.script_engine
        change.workflow = workflow
        instance.definition_id = definition.id
        change.event("migrated", message=f"迁移到第 {definition.version} 版")


def _missing_task_specs(state: dict, specs: ProcessSpecs) -> set[str]:
    names = {t["task_spec"] for t in state["tasks"].values()}
    missing = names - set(specs.spec.task_specs)
    for sub in state.get("subprocesses", {}).values():
        sub_spec = specs.subprocess_specs.get(sub.get("spec"))
        sub_names = {t["task_spec"] for t in sub["tasks"].values()}
        missing |= sub_names - set(sub_spec.task_specs if sub_spec else ())
    return missing


def _forms_in_file_order(forms: dict, files) -> dict:
    """Forms with their keys in the order their files give them.

    PostgreSQL's JSONB keeps an object's keys sorted by length, so a form read
    back from the database would show its fields in that order; the deployed
    form files still hold the designer's order."""
    sources = {}
    for f in files:
        if f.kind == "form":
            try:
                sources[f.name] = json.loads(f.content)
            except ValueError:
                continue
    return {
        bpmn_id: {**form, "schema": _ordered_like(form.get("schema"), sources.get(form.get("ref")))}
        for bpmn_id, form in forms.items()
    }


def _ordered_like(value, source):
    """``value`` with every object's keys in ``source``'s order (others after)."""
    if isinstance(value, dict):
        model = source if isinstance(source, dict) else {}
        keys = [k for k in model if k in value] + [k for k in value if k not in model]
        return {k: _ordered_like(value[k], model.get(k)) for k in keys}
    if isinstance(value, list):
        model = source if isinstance(source, list) and len(source) == len(value) else []
        return [_ordered_like(v, model[i] if model else None) for i, v in enumerate(value)]
    return value
