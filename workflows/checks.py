"""Whether a work item or an instance may be worked on now.

Raised errors carry the Chinese sentence the user sees; the same checks serve
completion, claiming and the approval operations.
"""

from __future__ import annotations

from . import models as m
from .errors import InstanceNotActive, WorkItemConflict

_ITEM_STATUS_ZH = {m.DONE: "已办结", m.CANCELLED: "已取消", m.OPEN: "待办", m.RETURNED: "已退回"}
_INSTANCE_STATUS_ZH = {
    m.RUNNING: "办理中",
    m.COMPLETED: "办结",
    m.TERMINATED: "终止",
    m.ERROR: "出错",
}


def instance_status_zh(status: str) -> str:
    return _INSTANCE_STATUS_ZH.get(status, status)


def check_open(item: m.WorkItem, version: int, actor: str) -> None:
    """The item is open at the version the actor saw, theirs or unclaimed, not delegated."""
    if item.status != m.OPEN or item.version != version:
        raise_conflict(item, version, actor)
    if item.assignee is not None and item.assignee != actor:
        raise WorkItemConflict(
            f"该待办已由 {item.assignee} 认领，不能由他人办理。", assignee=item.assignee
        )
    if item.delegation == m.DELEGATION_PENDING:
        raise WorkItemConflict(
            f"该待办已委派给 {item.delegated_to}，待其答复后才能办理。",
            delegated_to=item.delegated_to,
        )


def raise_conflict(item: m.WorkItem, version: int | None, actor: str) -> None:
    """Say why the item is not what the actor saw (closed, claimed by another, changed)."""
    if item.status != m.OPEN:
        by = f"（{item.completed_by}）" if item.completed_by else ""
        raise WorkItemConflict(
            f"该待办{_ITEM_STATUS_ZH.get(item.status, item.status)}{by}，不能再次办理。",
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


def check_running(instance: m.ProcessInstance) -> None:
    """Work goes on while the instance runs, and in other branches while one step waits for a fix."""
    if instance.status not in (m.RUNNING, m.ERROR):
        raise InstanceNotActive(
            f"办件当前状态为“{instance_status_zh(instance.status)}”，不能办理。",
            status=instance.status,
        )
