"""One change of one process instance: the runtime's unit of work.

``Runtime.change`` and ``Runtime.change_for_item`` lock the instance row, ask
the guard about user work, and hand out a ``Change``; ``Runtime.start`` makes
one for a new instance. The change loads the workflow when it is first needed
(the live cache's copy when the locked revision matches, else a restore),
collects what the call did (history rows, the work items it completed, the
item a return re-opened steps from) and, when the call ends normally, saves it
all at once: prune, mirror work items and route new work, serialize, bump the
revision, tell the observer. A call that raises leaves nothing behind: the caller rolls
back, and a workflow taken from the live cache is not put back.
"""

from __future__ import annotations

import os
import re

import SpiffWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, update

from . import models as m
from .expressions import step_label
from .messages import mirror_waits, write_outbox
from .seams import NewWork
from .state import prune, serializer_for, to_json_data
from .steps import is_instance, settle, task_properties
from .timers import boundary_timer_due, next_timer

# A loop without any wait is stopped before SpiffWorkflow's task iterator (which
# stops looking 1000 levels deep) loses sight of it, or after this many steps.
MAX_TREE_DEPTH = 800
MAX_ENGINE_STEPS = 20000

# Set in the session's info when a change wrote to the message outbox: whoever
# commits should call ``Runtime.deliver_outbox`` afterwards.
OUTBOX_PENDING = "yimen.outbox_pending"

# Rounds of automatic completion (skip rules) one change may trigger.
MAX_AUTO_ROUNDS = 50

_SPIFF_DIR = os.path.dirname(SpiffWorkflow.__file__) + os.sep
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class Change:
    """What one call does to one instance, saved together by ``finish``.

    ``actor`` is the person whose work this change does: routing's previous
    actor (None for starts, terminations, retries and timers). History rows
    name their actor themselves.
    """

    def __init__(
        self, runtime, instance: m.ProcessInstance, actor: str | None = None, *, new=False
    ):
        self.runtime = runtime
        self.session = runtime.session
        self.instance = instance
        self.actor = actor
        self.new = new
        self.events: list[dict] = []
        self.completed: list[m.WorkItem] = []
        self.reopened_from: int | None = None  # the work item a return re-opened steps from
        # the instance's open items as read at the start; None: read them when saving
        self.open_items: list[m.WorkItem] | None = [] if new else None
        self._workflow = None

    # --- the workflow ---------------------------------------------------------

    @property
    def workflow(self):
        """The instance's workflow, loaded on first use."""
        if self._workflow is None:
            instance = self.instance
            workflow = self.runtime.live.take(
                instance.id, instance.revision, instance.definition_id
            )
            self._workflow = workflow if workflow is not None else self.runtime.restore(instance)
        return self._workflow

    @workflow.setter
    def workflow(self, workflow) -> None:
        self._workflow = workflow

    def work_item(self, work_item_id: int) -> m.WorkItem:
        """A work item of this instance, re-read, with every open item kept for the save."""
        self.open_items = self.runtime.open_work_items(self.instance.id, refresh=True)
        item = next((i for i in self.open_items if i.id == work_item_id), None)
        return item if item is not None else self.runtime.work_item(work_item_id, refresh=True)

    # --- running the engine ------------------------------------------------------

    def run(self, task) -> None:
        """Run a READY task the user completed, then the engine to the next wait state."""
        if self._run_one(task):
            self.advance()

    def _run_one(self, task) -> bool:
        workflow = self.workflow
        if not self.engine(task.run):
            if task.workflow is workflow and task.has_state(TaskState.COMPLETED):
                workflow.last_task = task  # it failed after the step: keep what the user did
            return False
        try:
            if is_instance(task):
                settle(task.parent)
        except SpiffWorkflowException as exc:
            self.fail(exc)
            return False
        if task.workflow is workflow:
            workflow.last_task = task
        return True

    def engine(self, call) -> bool:
        """Run one call into SpiffWorkflow; a failure inside the engine stops the instance.

        Any exception SpiffWorkflow raises or lets through (its timer parsing
        raises AttributeError on a number) becomes an instance error; one raised
        by the platform's own code is a bug and propagates.
        """
        try:
            call()
        except Exception as exc:
            if not isinstance(exc, SpiffWorkflowException) and not _raised_in_engine(exc):
                raise
            self.fail(exc)
            return False
        return True

    def advance(self) -> None:
        """Run engine steps to the next wait state; a failing step stops the instance."""
        instance, workflow = self.instance, self.workflow
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
                self.event("task_completed", task=task)

        if instance.status not in (m.RUNNING, m.ERROR):
            return
        self.engine(lambda: workflow.do_engine_steps(did_complete_task=record))

    def fail(self, exc: Exception) -> None:
        """Stop the instance in ``error``: a Chinese message naming the step, the original as detail."""
        task = getattr(exc, "task", None) or _failing_task(exc)
        spec = getattr(exc, "task_spec", None) or (task.task_spec if task is not None else None)
        if isinstance(exc, SpiffWorkflowException):
            text = str(exc.args[0]) if exc.args else ""
            detail = "; ".join(n for n in [text, *exc.notes] if n)
        else:
            detail = f"{type(exc).__name__}: {exc}"
        error = {
            "message": _failure_message(spec, getattr(exc, "line_number", None), detail),
            "detail": detail,
            "bpmn_id": getattr(spec, "bpmn_id", None),
            "name": getattr(spec, "bpmn_name", None),
            "task_id": str(task.id) if task is not None else None,
            "line": getattr(exc, "line_number", None) or None,
            "error_line": getattr(exc, "error_line", None) or None,
        }
        self.instance.status = m.ERROR
        self.instance.error = error
        self.event("error", message=error["message"], data=error)

    # --- history ---------------------------------------------------------------------

    def event(
        self,
        kind,
        *,
        task=None,
        item=None,
        actor=None,
        data=None,
        message=None,
        on_behalf_of=None,
    ) -> None:
        """Queue a history row; rows are written together by ``write_events``."""
        spec = task.task_spec if task is not None else None
        self.events.append(
            {
                "instance_id": self.instance.id,
                "at": self.runtime.clock(),
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

    def write_events(self) -> None:
        if self.events:
            self.session.execute(insert(m.InstanceEvent), self.events)
            self.events = []

    # --- saving ------------------------------------------------------------------------

    def finish(self) -> None:
        """Save the change: all of it if the workflow was loaded, else its history rows."""
        if self._workflow is None:
            self.write_events()
        else:
            self._save()

    def _save(self) -> None:
        """Prune, mirror work items, serialize, bump the revision, tell the observer."""
        instance, workflow, runtime = self.instance, self._workflow, self.runtime
        if workflow.last_task is not None:
            instance.data = to_json_data(workflow.last_task.data)
        prune(workflow)
        open_items = self.open_items
        if open_items is None:
            open_items = runtime.open_work_items(instance.id)
        self._route_new_work(open_items)
        now = runtime.clock()
        if instance.status == m.RUNNING and workflow.completed:
            instance.status = m.COMPLETED
            instance.ended_at = now
            self.event("completed")
        self._save_messages()
        instance.next_timer_at = next_timer(workflow) if instance.status == m.RUNNING else None
        instance.revision += 1
        instance.updated_at = now
        specs = runtime.process_specs(instance.definition_id)
        text = serializer_for(specs.dialect).dumps(workflow)
        if self.new:
            self.session.add(m.InstanceState(instance_id=instance.id, state=text))
        else:
            self.session.execute(
                update(m.InstanceState)
                .where(m.InstanceState.instance_id == instance.id)
                .values(state=text)
                .execution_options(synchronize_session=False)
            )
        runtime.live.put_after_commit(
            self.session, instance.id, instance.revision, instance.definition_id, workflow
        )
        self.write_events()
        if runtime.observer is not None:
            runtime.observer.instance_saved(self.session, instance, self.completed)

    def _save_messages(self) -> None:
        """Keep what the instance threw for delivery after commit, mirror what it waits for."""
        if write_outbox(self):
            self.session.info[OUTBOX_PENDING] = True
        mirror_waits(self)

    def _route_new_work(self, open_items) -> None:
        """Mirror READY tasks as work items, route them, complete the ones rules skip."""
        instance, assigner = self.instance, self.runtime.assigner
        for _round in range(MAX_AUTO_ROUNDS):
            new_work = self._sync_work_items(open_items)
            if assigner is None or not new_work:
                return
            self.session.flush()
            skipped = assigner.assign(self.session, instance, new_work, self.actor)
            open_items = [*open_items, *(w.item for w in new_work)]
            if not skipped or instance.status not in (m.RUNNING, m.ERROR):
                return
            for work in new_work:
                if work.item.id in skipped:
                    self._auto_complete(work, skipped[work.item.id])
            self.advance()
            prune(self._workflow)

    def _auto_complete(self, work: NewWork, reason: str) -> None:
        item = work.item
        item.status = m.DONE
        item.completed_at = self.runtime.clock()
        item.data = {}
        item.version += 1
        self.completed.append(item)
        self.event("auto_completed", task=work.task, item=item, message=reason)
        self._run_one(work.task)

    def _sync_work_items(self, open_items) -> list[NewWork]:
        ready = {str(t.id): t for t in self._workflow.get_tasks(state=TaskState.READY, manual=True)}
        for item in (i for i in open_items if i.status == m.OPEN):
            if ready.pop(item.task_id, None) is None:
                item.status = m.CANCELLED
                item.completed_at = self.runtime.clock()
                item.version += 1
                self.event("task_cancelled", item=item)
        forms = self.runtime.process_specs(self.instance.definition_id).forms
        previous = self.completed[-1].id if self.completed else self.reopened_from
        new_work = []
        for task in ready.values():
            item = self._new_work_item(task, forms)
            item.previous_item_id = previous
            self.session.add(item)
            new_work.append(NewWork(item, task))
        return new_work

    def _new_work_item(self, task, forms) -> m.WorkItem:
        spec = task.task_spec
        properties = task_properties(spec)
        form = forms.get(spec.bpmn_id)
        return m.WorkItem(
            instance_id=self.instance.id,
            task_id=str(task.id),
            bpmn_id=spec.bpmn_id or spec.name,
            name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            kind="manual" if type(spec).__name__ == "ManualTask" else "user",
            properties=properties,
            form=form["ref"] if form else None,
            status=m.OPEN,
            priority=_int(properties.get("priority"), 0),
            due_at=boundary_timer_due(task),
            created_at=self.runtime.clock(),
            version=1,
        )


def _raised_in_engine(exc: Exception) -> bool:
    """Whether the innermost frame of ours or SpiffWorkflow's that raised is SpiffWorkflow's."""
    frame = None
    traceback = exc.__traceback__
    while traceback is not None:
        path = traceback.tb_frame.f_code.co_filename
        if _SPIFF_DIR in path or path.startswith(_OWN_DIR):
            frame = path
        traceback = traceback.tb_next
    return frame is not None and _SPIFF_DIR in frame


def _failing_task(exc: Exception):
    """The innermost SpiffWorkflow task the failing call was working on, if any."""
    found = None
    traceback = exc.__traceback__
    while traceback is not None:
        local = traceback.tb_frame.f_locals
        for name in ("my_task", "task", "self"):
            if isinstance(local.get(name), Task):
                found = local[name]
                break
        traceback = traceback.tb_next
    return found


def _failure_message(spec, line, detail: str) -> str:
    """The failure behind a Chinese lead naming the step, unless it is Chinese and names it."""
    bpmn_id = getattr(spec, "bpmn_id", None) if spec is not None else None
    if bpmn_id and bpmn_id in detail and re.search(r"[\u4e00-\u9fff]", detail):
        return detail  # already Chinese and naming the step
    where = f"步骤 {step_label(spec)}" if bpmn_id else "流程步骤"
    if line:
        where += f" 第 {line} 行"
    return f"{where}执行出错：{detail}"


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
