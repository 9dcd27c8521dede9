"""Everything Yimen does to SpiffWorkflow 3.2 beyond its public API.

The runtime needs a few things SpiffWorkflow keeps to itself: forcing a task's
state, grafting and dropping tasks (退回 starts a step anew, pruning cuts old
history), the join hook that merges branch data, the bookkeeping of
multi-instance tasks (加签/减签), the stored value of timers, and the
serializer (a converter that leaves the specs out of the state, and its JSON
encoder). Each is a small named function or class here, and no other module
touches a private member of a SpiffWorkflow object.

An upgrade past SpiffWorkflow 3.2 touches only this file. Read each function
against the new release, then re-run at least ``tests/workflows/test_operations.py``
(return, take back, 会签 signers and modes), ``test_joint_review.py`` (join data),
``test_runtime.py`` (retry, pruning, state), ``test_timers.py`` and
``test_concurrency.py``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway, ParallelGateway
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .joins import merged_data

# --- task state and the task tree ----------------------------------------------


def set_state(task, state: int) -> None:
    """Force a task into ``state`` (a failed step made READY again, a 会签 let finish)."""
    task._set_state(state)


def add_child(parent, spec, state: int):
    """A new child of ``parent`` for ``spec``, in ``state``."""
    return parent._add_child(spec, state)


def remove_task(workflow, task) -> None:
    """Remove ``task`` and its subtree from the workflow."""
    workflow._remove_task(task.id)


def drop_children(task) -> None:
    """Remove every child of ``task``, finished or not, with their subtrees."""
    task._drop_children(force=True)


def predict(spec, task, mask: int) -> None:
    """Let ``spec`` predict the tasks that will follow ``task``."""
    spec._predict(task, mask=mask)


def update_without_inheriting(spec, task) -> None:
    """Let ``spec`` update a new task (it becomes READY if it can) with the data it has.

    3.2's update merges the parent's data into a task that becomes ready; a
    step started anew must keep the data it was given, so the parent's data is
    hidden meanwhile.
    """
    parent = task.parent
    saved, parent.data = parent.data, {}
    try:
        spec._update(task)
    finally:
        parent.data = saved


def update(task) -> None:
    """Let a task's spec update it again (a step that failed while it was being reached)."""
    task.task_spec._update(task)


def keep_only_subtree(root, task) -> None:
    """Make ``task`` the only child of ``root`` (the caller drops everything between)."""
    task._parent = root.id
    root._children = [task.id]


# --- tasks waiting for events ---------------------------------------------------


def waiting_event_tasks(workflow) -> list:
    """Tasks of the workflow (and its subprocesses) that wait for an event or timer."""
    return list(workflow.event_manager.tasks.values())


def forget_removed_event_tasks(workflow) -> None:
    """Drop waiting-event entries whose task is no longer in the top workflow's tree."""
    tasks = workflow.event_manager.tasks
    for task_id in [t for t in tasks if t not in workflow.tasks]:
        del tasks[task_id]


# --- timers ----------------------------------------------------------------------


def timer_due(task, definition) -> datetime | None:
    """When a waiting timer is due, from the value stored when it was reached."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        value = value["next"]
    return TimerEventDefinition.get_datetime(value)


def fire_timer(task, definition) -> None:
    """Make a waiting timer fire at the next refresh, whatever its stored due time.

    SpiffWorkflow compares a cycle against the real clock, so its next run is
    moved to just before now; other timers are marked fired.
    """
    if isinstance(definition, CycleTimerEventDefinition):
        value = task._get_internal_data("event_value")
        real_now = datetime.now(UTC)
        if datetime.fromisoformat(value["next"]) >= real_now:
            value["next"] = (real_now - timedelta(microseconds=1)).isoformat()
    else:
        task._set_internal_data(event_fired=True)


# --- multi-instance (会签) bookkeeping -------------------------------------------


def mi_index(task):
    """The position in the input list a multi-instance child was created for, or None."""
    return task.internal_data.get("key_or_index")


def set_mi_index(task, index: int) -> None:
    task.internal_data["key_or_index"] = index


def mi_item(task):
    """The input item of a multi-instance child created without a position."""
    return task.internal_data.get("item")


def mi_remaining(parent) -> list:
    """Positions a sequential multi-instance task has yet to start (a copy)."""
    return list(parent.internal_data.get("remaining", []))


def set_mi_remaining(parent, positions: list) -> None:
    parent.internal_data["remaining"] = positions


def add_mi_instance(parent, item, index: int) -> None:
    """A new child of a running parallel multi-instance task for ``item`` at ``index``."""
    parent.task_spec.create_child(parent, item, index)


def start_next_mi_instance(parent) -> None:
    """Start the next turn of a sequential multi-instance task."""
    parent.task_spec.add_next_child(parent)


# --- joins: branch data merged by Yimen -----------------------------------------


def joined_branches(spec, task) -> list:
    """The last task of every branch a join task gathers, in the order they finished.

    As 3.2's unstructured join does, finished join tasks of other branches are
    counted and the children of completed ones dropped (a reset inside a branch
    would otherwise leave the old branch's descendants in the tree).
    """
    others = [
        t
        for t in task.workflow.tasks.values()
        if t.task_spec == spec
        and t is not task
        and t.has_state(TaskState.FINISHED_MASK)
        and not task.is_descendant_of(t)
    ]
    for other in others:
        if other.has_state(TaskState.COMPLETED):
            drop_children(other)
    return sorted([t.parent for t in others] + [task.parent], key=lambda t: t.last_state_change)


class MergingParallelGateway(ParallelGateway):
    """A parallel gateway whose join merges each branch's own changes (``joins``)."""

    def _run_hook(self, my_task):
        my_task.data = merged_data(joined_branches(self, my_task))
        return True


class MergingInclusiveGateway(InclusiveGateway):
    """An inclusive gateway whose join merges each branch's own changes, then 3.2's split."""

    def _run_hook(self, my_task):
        my_task.data = merged_data(joined_branches(self, my_task))
        matches, defaults = self._get_matching_outputs(my_task)
        if not matches + defaults:
            raise WorkflowTaskException("No conditions satisfied on gateway", task=my_task)
        my_task._sync_children(matches or defaults, TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
        return True


# --- the serializer -----------------------------------------------------------------


class StateOnlyConverter(BpmnWorkflowConverter):
    """Leaves the specs out of the state; a restore takes them from the spec cache.

    Reuses the 3.2 workflow converter without its spec handling: ``to_dict``
    skips ``BpmnWorkflowConverter.to_dict`` (which adds the specs) for its
    base class's.
    """

    def __init__(self, registry):
        super().__init__(BpmnWorkflow, registry)

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct, specs):
        """A workflow from ``dct`` on ``specs`` (``spec`` and ``subprocess_specs``)."""
        workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


@contextmanager
def encoding(serializer):
    """Put a BpmnWorkflowSerializer's registry in encoder mode; yields its JSON encoder class.

    In encoder mode the registry leaves workflow data types for the encoder, so
    converting to a dict and dumping JSON both happen inside this block.
    """
    registry = serializer.registry
    registry._encoder_mode = True
    try:
        yield serializer._encoder_cls
    finally:
        registry._encoder_mode = False
