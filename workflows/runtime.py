"""The runtime service: start instances, complete work, fire timers.

Every change of an instance happens inside the caller's transaction, after
locking the instance row (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite takes
the write lock when the transaction begins). A work item is checked against
the version the user saw, never against the instance revision, so reviewers in
parallel branches never invalidate each other: they simply queue on the lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update

from . import models as m
from . import spiff_compat, timers
from .db import is_postgresql
from .deployments import latest_definition
from .errors import InstanceNotActive, MigrationImpossible, NotFound, WorkItemConflict
from .forms import check_keys, validate_task_data
from .operations import ApprovalOperations
from .sandbox import SandboxScriptEngine
from .specs import DefinitionSource, ProcessSpecs, SpecCache
from .state import LiveWorkflows, find_task, prune, serializer_for, to_json_data
from .steps import is_instance, settle, task_properties
from .timeutil import utcnow

# A loop without any wait is stopped before SpiffWorkflow's task iterator (which
# stops looking 1000 levels deep) loses sight of it, or after this many steps.
MAX_TREE_DEPTH = 800
MAX_ENGINE_STEPS = 20000

SPECS = SpecCache()
LIVE = LiveWorkflows()
SCRIPT_ENGINE = SandboxScriptEngine()

_STATUS_ZH = {m.DONE: "已办结", m.CANCELLED: "已取消", m.OPEN: "待办", m.RETURNED: "已退回"}


@dataclass
class NewWork:
    """A work item just opened, with the task it mirrors (for routing)."""

    item: m.WorkItem
    task: object


class Assigner(Protocol):
    """Routes new work to people; provided by the platform (``app``)."""

    def assign(
        self, session, instance, work: list[NewWork], previous_actor: str | None
    ) -> dict[int, str]:
        """Record candidates; return ``{work_item_id: reason}`` for items to complete automatically."""


class Observer(Protocol):
    """Told of every saved change of an instance, inside the same transaction."""

    def instance_saved(self, session, instance, completed: list[m.WorkItem]) -> None:
        """``completed``: the work items completed by this change (by people or rules)."""


# Rounds of automatic completion (skip rules) one change may trigger.
MAX_AUTO_ROUNDS = 50


@dataclass
class TimerFired:
    instance_id: int
    timers: list[str]
    status: str


class Runtime(ApprovalOperations):
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
    ):
        self.session = session
        self.specs = specs
        self.live = live
        self.script_engine = script_engine
        self.clock = clock
        self.assigner = assigner
        self.observer = observer
        self._events: list[dict] = []
        self._completed: list[m.WorkItem] = []
        self._actor: str | None = None
        # the work item a return or take-back re-opened steps from
        self._reopened_from: int | None = None

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
            forms=definition.forms or {},
        )

    # --- instances --------------------------------------------------------

    def start(self, process_id, *, version=None, data=None, actor=None) -> m.ProcessInstance:
        """Start an instance and run it to its first wait state."""
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
        self._event(instance, "started", actor=actor, data=to_json_data(data))
        self._advance(instance, workflow)
        self._save(instance, workflow, new=True)
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
        self._actor = actor
        with self.session.no_autoflush:
            instance = self._lock_for_item(work_item_id)
            open_items = self.open_work_items(instance.id, refresh=True)
            item = next((i for i in open_items if i.id == work_item_id), None)
            if item is None:
                item = self.work_item(work_item_id, refresh=True)
            validate_task_data(self._form_of(instance.definition_id, item.bpmn_id), data)
            self._check_open(item, version, actor)
            self._check_running(instance)
            workflow = self._load(instance)
            task = find_task(workflow, UUID(item.task_id))
            if task is None or task.state != TaskState.READY:
                raise WorkItemConflict("该待办对应的流程步骤已不再等待办理，请刷新。")
            task.data.update(data)
            item.status = m.DONE
            item.completed_at = self.clock()
            item.completed_by = actor
            item.on_behalf_of = on_behalf_of
            item.data = to_json_data(data)
            item.version += 1
            self._completed.append(item)
            self._event(
                instance,
                "task_completed",
                task=task,
                item=item,
                actor=actor,
                data=item.data,
                on_behalf_of=on_behalf_of,
            )
            self._run_task(instance, workflow, task, open_items)
        return instance

    def claim(self, work_item_id: int, actor: str, version: int | None = None) -> m.WorkItem:
        """Take a work item for oneself; nobody else can complete it meanwhile."""
        item = self.work_item(work_item_id)
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
            self._raise_conflict(item, version, actor)
        self._event(item.instance, "claimed", item=item, actor=actor)
        self._write_events()
        return item

    def release(self, work_item_id: int, actor: str, version: int | None = None) -> m.WorkItem:
        """Give a claimed work item back to the pool."""
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
            self._raise_conflict(item, version, actor)
        self._event(item.instance, "released", item=item, actor=actor)
        self._write_events()
        return item

    def terminate(self, instance_id: int, reason: str, actor: str) -> m.ProcessInstance:
        """End an instance early; its open work is cancelled."""
        if not reason or not reason.strip():
            raise InstanceNotActive("终止办件必须填写原因。")
        instance = self._lock(instance_id)
        if instance.status in (m.COMPLETED, m.TERMINATED):
            raise InstanceNotActive(f"办件已{_instance_status_zh(instance.status)}，不能终止。")
        workflow = self._load(instance)
        workflow.cancel()
        now = self.clock()
        instance.status = m.TERMINATED
        instance.ended_at = now
        instance.end_reason = reason.strip()
        instance.error = None
        self._event(instance, "terminated", actor=actor, message=reason.strip())
        self._save(instance, workflow)
        return instance

    def retry(self, instance_id: int, actor: str, version: int | None = None) -> m.ProcessInstance:
        """Run the failed step again, optionally on another version of the diagram."""
        instance = self._lock(instance_id)
        if instance.status != m.ERROR:
            raise InstanceNotActive("只有出错的办件才能重试。")
        if version is not None:
            workflow = self._migrate(instance, self.definition(instance.process_id, version))
        else:
            workflow = self._load(instance)
        failed = workflow.get_tasks(state=TaskState.ERROR)
        for task in failed:
            spiff_compat.set_state(task, TaskState.READY)
        instance.status = m.RUNNING
        instance.error = None
        self._event(
            instance, "retried", actor=actor, message=f"version={version}" if version else None
        )
        self._advance(instance, workflow)
        self._save(instance, workflow)
        return instance

    def history(self, instance_id: int) -> list[m.InstanceEvent]:
        """Everything that happened to an instance, oldest first (no workflow restore)."""
        self._write_events()
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
                self._events = []
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
        workflow = self._load(instance)
        fired = timers.fire_due(workflow, now)
        for task, definition in fired:
            self._event(instance, "timer_fired", task=task, message=definition.name)
        workflow.refresh_timers()
        self._advance(instance, workflow)
        self._save(instance, workflow)
        return [task.task_spec.bpmn_id or task.task_spec.name for task, _ in fired]

    def _record_failure(self, instance_id: int, exc: Exception) -> None:
        instance = self._lock(instance_id)
        instance.status = m.ERROR
        instance.error = {"message": f"定时器处理失败：{exc}", "bpmn_id": None, "task_id": None}
        self._event(instance, "error", message=str(exc))
        self._write_events()
        self.live.discard(instance_id)
        self.session.commit()

    # --- internals --------------------------------------------------------

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

    def _check_open(self, item: m.WorkItem, version: int, actor: str) -> None:
        if item.status != m.OPEN or item.version != version:
            self._raise_conflict(item, version, actor)
        if item.assignee is not None and item.assignee != actor:
            raise WorkItemConflict(
                f"该待办已由 {item.assignee} 认领，不能由他人办理。", assignee=item.assignee
            )
        if item.delegation == m.DELEGATION_PENDING:
            raise WorkItemConflict(
                f"该待办已委派给 {item.delegated_to}，待其答复后才能办理。",
                delegated_to=item.delegated_to,
            )

    def _raise_conflict(self, item: m.WorkItem, version: int | None, actor: str) -> None:
        if item.status != m.OPEN:
            by = f"（{item.completed_by}）" if item.completed_by else ""
            raise WorkItemConflict(
                f"该待办{_STATUS_ZH.get(item.status, item.status)}{by}，不能再次办理。",
                status=item.status,
                current_version=item.version,
            )
        if item.assignee is not None and item.assignee != actor:
            raise WorkItemConflict(f"该待办已由 {item.assignee} 认领。", assignee=item.assignee)
        raise WorkItemConflict(
            "该待办在您打开后已被修改（认领、释放或改派），请刷新后重试。",
            current_version=item.version,
            your_version=version,
        )

    def _check_running(self, instance: m.ProcessInstance) -> None:
        # Work in other branches goes on while one step waits for a fix.
        if instance.status not in (m.RUNNING, m.ERROR):
            raise InstanceNotActive(
                f"办件当前状态为“{_instance_status_zh(instance.status)}”，不能办理。",
                status=instance.status,
            )

    def _load(self, instance: m.ProcessInstance):
        workflow = self.live.take(instance.id, instance.revision, instance.definition_id)
        if workflow is not None:
            return workflow
        return self._restore(instance)

    def _restore(self, instance: m.ProcessInstance):
        """A fresh copy of the stored workflow (the live cache is left alone)."""
        specs = self.process_specs(instance.definition_id)
        workflow = serializer_for(specs.dialect).loads(self._state_text(instance.id), specs)
        workflow.script_engine = self.script_engine
        return workflow

    def _state_text(self, instance_id: int) -> str:
        return self.session.scalar(
            select(m.InstanceState.state).where(m.InstanceState.instance_id == instance_id)
        )

    def _migrate(self, instance, definition):
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
        instance.definition_id = definition.id
        self._event(instance, "migrated", message=f"迁移到第 {definition.version} 版")
        return workflow

    def _run_task(self, instance, workflow, task, open_items) -> None:
        try:
            task.run()
            if is_instance(task):
                settle(task.parent)
            if task.workflow is workflow:
                workflow.last_task = task
        except SpiffWorkflowException as exc:
            self._fail(instance, exc)
        else:
            self._advance(instance, workflow)
        self._save(instance, workflow, open_items=open_items)

    def _advance(self, instance, workflow) -> None:
        """Run engine steps to the next wait state; a failing step stops the instance."""

        steps = 0

        def record(task):
            nonlocal steps
            steps += 1
            if steps > MAX_ENGINE_STEPS or task.depth > MAX_TREE_DEPTH:
                raise WorkflowTaskException(
                    f"流程连续自动执行了 {steps} 步仍未到达人工步骤或等待点，"
                    "疑为无限循环，已停止（runaway loop）。",
                    task=task,
                )
            if task.workflow is workflow:
                workflow.last_task = task
            spec = task.task_spec
            if spec.bpmn_id is not None and not type(spec).__name__.endswith("Gateway"):
                self._event(instance, "task_completed", task=task)

        if instance.status not in (m.RUNNING, m.ERROR):
            return
        try:
            workflow.do_engine_steps(did_complete_task=record)
        except SpiffWorkflowException as exc:
            self._fail(instance, exc)

    def _fail(self, instance, exc: SpiffWorkflowException) -> None:
        task = getattr(exc, "task", None)
        spec = getattr(exc, "task_spec", None) or (task.task_spec if task is not None else None)
        error = {
            "message": "; ".join([str(exc), *getattr(exc, "notes", [])]),
            "bpmn_id": getattr(spec, "bpmn_id", None),
            "name": getattr(spec, "bpmn_name", None),
            "task_id": str(task.id) if task is not None else None,
            "line": getattr(exc, "line_number", None) or None,
            "error_line": getattr(exc, "error_line", None) or None,
        }
        instance.status = m.ERROR
        instance.error = error
        self._event(instance, "error", message=error["message"], data=error)

    def _save(self, instance, workflow, new: bool = False, open_items=None) -> None:
        """Prune, mirror work items, serialize, bump the revision."""
        if workflow.last_task is not None:
            instance.data = to_json_data(workflow.last_task.data)
        prune(workflow)
        if open_items is None:
            open_items = [] if new else self.open_work_items(instance.id)
        self._route_new_work(instance, workflow, open_items)
        now = self.clock()
        if instance.status == m.RUNNING and workflow.completed:
            instance.status = m.COMPLETED
            instance.ended_at = now
            self._event(instance, "completed")
        instance.next_timer_at = (
            timers.next_timer(workflow) if instance.status == m.RUNNING else None
        )
        instance.revision += 1
        instance.updated_at = now
        text = serializer_for(self.process_specs(instance.definition_id).dialect).dumps(workflow)
        if new:
            self.session.add(m.InstanceState(instance_id=instance.id, state=text))
        else:
            self.session.execute(
                update(m.InstanceState)
                .where(m.InstanceState.instance_id == instance.id)
                .values(state=text)
                .execution_options(synchronize_session=False)
            )
        self.live.put_after_commit(
            self.session, instance.id, instance.revision, instance.definition_id, workflow
        )
        self._write_events()
        if self.observer is not None:
            self.observer.instance_saved(self.session, instance, self._completed)
        self._completed = []
        self._reopened_from = None

    def _route_new_work(self, instance, workflow, open_items) -> None:
        """Mirror READY tasks as work items, route them, complete the ones rules skip."""
        for _round in range(MAX_AUTO_ROUNDS):
            new_work = self._sync_work_items(instance, workflow, open_items)
            if self.assigner is None or not new_work:
                return
            self.session.flush()
            skipped = self.assigner.assign(self.session, instance, new_work, self._actor)
            open_items = [*open_items, *(w.item for w in new_work)]
            if not skipped or instance.status not in (m.RUNNING, m.ERROR):
                return
            for work in new_work:
                if work.item.id in skipped:
                    self._auto_complete(instance, workflow, work, skipped[work.item.id])
            self._advance(instance, workflow)
            prune(workflow)

    def _auto_complete(self, instance, workflow, work: NewWork, reason: str) -> None:
        item = work.item
        item.status = m.DONE
        item.completed_at = self.clock()
        item.data = {}
        item.version += 1
        self._completed.append(item)
        self._event(instance, "auto_completed", task=work.task, item=item, message=reason)
        try:
            work.task.run()
            if is_instance(work.task):
                settle(work.task.parent)
            if work.task.workflow is workflow:
                workflow.last_task = work.task
        except SpiffWorkflowException as exc:
            self._fail(instance, exc)

    def _sync_work_items(self, instance, workflow, open_items) -> list[NewWork]:
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        for item in (i for i in open_items if i.status == m.OPEN):
            if ready.pop(item.task_id, None) is None:
                item.status = m.CANCELLED
                item.completed_at = self.clock()
                item.version += 1
                self._event(instance, "task_cancelled", item=item)
        forms = self.process_specs(instance.definition_id).forms
        previous = self._completed[-1].id if self._completed else self._reopened_from
        new_work = []
        for task in ready.values():
            item = self._new_work_item(instance, task, forms)
            item.previous_item_id = previous
            self.session.add(item)
            new_work.append(NewWork(item, task))
        return new_work

    def _new_work_item(self, instance, task, forms) -> m.WorkItem:
        spec = task.task_spec
        properties = task_properties(spec)
        form = forms.get(spec.bpmn_id)
        return m.WorkItem(
            instance_id=instance.id,
            task_id=str(task.id),
            bpmn_id=spec.bpmn_id or spec.name,
            name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            kind="manual" if type(spec).__name__ == "ManualTask" else "user",
            properties=properties,
            form=form["ref"] if form else None,
            status=m.OPEN,
            priority=_int(properties.get("priority"), 0),
            due_at=timers.boundary_timer_due(task),
            created_at=self.clock(),
            version=1,
        )

    def _event(
        self,
        instance,
        kind,
        *,
        task=None,
        item=None,
        actor=None,
        data=None,
        message=None,
        on_behalf_of=None,
    ):
        """Queue a history row; rows are written together by ``_write_events``."""
        spec = task.task_spec if task is not None else None
        self._events.append(
            {
                "instance_id": instance.id,
                "at": self.clock(),
                "kind": kind,
                "bpmn_id": (spec.bpmn_id if spec is not None else None)
                or (item.bpmn_id if item else None),
                "name": (spec.bpmn_name if spec is not None else None)
                or (item.name if item else None),
                "task_id": str(task.id) if task is not None else (item.task_id if item else None),
                "work_item_id": item.id if item is not None else None,
                "actor": actor,
                "on_behalf_of": on_behalf_of,
                "data": data,
                "message": message,
            }
        )

    def _write_events(self) -> None:
        if self._events:
            self.session.execute(insert(m.InstanceEvent), self._events)
            self._events = []


# --- helpers -----------------------------------------------------------------

_INSTANCE_STATUS_ZH = {
    m.RUNNING: "办理中",
    m.COMPLETED: "办结",
    m.TERMINATED: "终止",
    m.ERROR: "出错",
}


def _instance_status_zh(status: str) -> str:
    return _INSTANCE_STATUS_ZH.get(status, status)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _missing_task_specs(state: dict, specs: ProcessSpecs) -> set[str]:
    names = {t["task_spec"] for t in state["tasks"].values()}
    missing = names - set(specs.spec.task_specs)
    for sub in state.get("subprocesses", {}).values():
        sub_spec = specs.subprocess_specs.get(sub.get("spec"))
        sub_names = {t["task_spec"] for t in sub["tasks"].values()}
        missing |= sub_names - set(sub_spec.task_specs if sub_spec else ())
    return missing
