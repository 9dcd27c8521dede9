"""The platform's words: the value stored in a table and the one Chinese label people read.

Every enum here is a ``StrEnum``: a member equals its string, so database rows,
JSON and templates see the same values as before, while code names the word
(``CaseStatus.ACCEPTED``) instead of spelling it. Each member carries exactly one
``label`` so a status reads the same on every page. The runtime's own words
(instance and work-item statuses) are taken from ``workflows.models``, which
must not import the application.
"""

from __future__ import annotations

from enum import StrEnum

from workflows import models as wm


class Word(StrEnum):
    """A stored word with its label; members are written ``NAME = "value", "标签"``."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Value → label in the order defined (filters, menus, templates)."""
        return {member: member.label for member in cls}

    @classmethod
    def parse(cls, value: str | None):
        """The member for a submitted value, or None if it is not one of ours."""
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def label_of(cls, value: str | None) -> str | None:
        """The label of a stored value; an unknown value is shown as it is."""
        member = cls.parse(value)
        return member.label if member is not None else value


class CaseStatus(Word):
    """Where a case (办件) stands at the window."""

    APPLIED = "applied", "申请"
    ACCEPTED = "accepted", "受理"
    CORRECTING = "correcting", "补正"
    PROCESSING = "processing", "办理中"
    DECIDED = "decided", "办结"
    DELIVERED = "delivered", "送达"
    REFUSED = "refused", "不予受理"
    WITHDRAWN = "withdrawn", "撤件"
    TERMINATED = "terminated", "终止"

    @classmethod
    def open(cls) -> tuple[CaseStatus, ...]:
        """Not yet delivered, refused, withdrawn or terminated."""
        return cls.APPLIED, cls.CORRECTING, cls.ACCEPTED, cls.PROCESSING, cls.DECIDED

    @classmethod
    def in_progress(cls) -> tuple[CaseStatus, ...]:
        """Accepted and not yet decided: the promised date is running."""
        return cls.ACCEPTED, cls.PROCESSING


class InstanceStatus(Word):
    """The state of a process instance (the runtime's words)."""

    RUNNING = wm.RUNNING, "办理中"
    ERROR = wm.ERROR, "出错"
    COMPLETED = wm.COMPLETED, "已办结"
    TERMINATED = wm.TERMINATED, "已终止"

    @classmethod
    def active(cls) -> tuple[InstanceStatus, ...]:
        """Not finished: still running or stopped by an error (may be retried)."""
        return cls.RUNNING, cls.ERROR


class WorkItemStatus(Word):
    """The state of a work item (待办) of a step (the runtime's words)."""

    OPEN = wm.OPEN, "待办"
    DONE = wm.DONE, "已办结"
    CANCELLED = wm.CANCELLED, "已取消"
    RETURNED = wm.RETURNED, "已退回"


class ItemStatus(Word):
    """The state of an approval item (事项) in the catalog."""

    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    RETIRED = "retired", "已停用"


class CaseChannel(Word):
    """How an application reached the center."""

    WINDOW = "window", "窗口"
    ONLINE = "online", "网上申请"
    PROXY = "proxy", "村代办"
    API = "api", "系统对接"
    RATING = "rating", "差评自动生成"


class CaseResult(Word):
    """The decision a case ends with."""

    APPROVE = "approve", "准予"
    REJECT = "reject", "不予"


class InstanceEventKind(Word):
    """What the event log of a process instance records (``instance_event.kind``)."""

    STARTED = "started", "发起办件"
    TASK_COMPLETED = "task_completed", "完成步骤"
    AUTO_COMPLETED = "auto_completed", "按规则自动跳过"
    TIMER_FIRED = "timer_fired", "时限到期"
    ERROR = "error", "流程出错"
    RETRIED = "retried", "重试"
    TERMINATED = "terminated", "终止办件"
    COMPLETED = "completed", "流程结束"
    CLAIMED = "claimed", "认领"
    RELEASED = "released", "释放"
    TASK_CANCELLED = "task_cancelled", "步骤取消"
    MIGRATED = "migrated", "迁移版本"
    ROUTING_RULE = "routing_rule", "分派规则"
    RETURNED = "returned", "退回"
    TAKEN_BACK = "taken_back", "撤回"
    TRANSFERRED = "transferred", "转办"
    DELEGATED = "delegated", "委派"
    DELEGATION_RESOLVED = "delegation_resolved", "答复委派"
    SIGNER_ADDED = "signer_added", "加签"
    SIGNER_REMOVED = "signer_removed", "减签"

    @classmethod
    def operations(cls) -> tuple[InstanceEventKind, ...]:
        """The approval operations a person does on a step, each with a reason."""
        return (
            cls.RETURNED,
            cls.TAKEN_BACK,
            cls.TRANSFERRED,
            cls.DELEGATED,
            cls.DELEGATION_RESOLVED,
            cls.SIGNER_ADDED,
            cls.SIGNER_REMOVED,
        )


class CaseEventKind(Word):
    """What the window's record of a case holds (``case_event.kind``)."""

    RECEIVED = "received", "收件"
    DOCUMENT_ISSUED = "document_issued", "出具文书"
    ACCEPTED = "accepted", "受理"
    CORRECTION_REQUESTED = "correction_requested", "一次性告知补正"
    CORRECTION_RECEIVED = "correction_received", "接收补正材料"
    CORRECTION_SUBMITTED = "correction_submitted", "网上提交补正材料"
    REFUSED = "refused", "不予受理"
    WITHDRAWN = "withdrawn", "撤件"
    DECIDED = "decided", "办结"
    DELIVERED = "delivered", "送达"
    PAUSED = "paused", "暂停计时"
    RESUMED = "resumed", "恢复计时"
    WARNING = "warning", "预警"
    URGED = "urged", "督办"
    COPIED = "copied", "抄送"
    SUSPENDED = "suspended", "挂起"
    APPLICATION_CORRECTED = "application_corrected", "补充更正申请信息"
    PAYMENT_DUE = "payment_due", "缴费通知"
    PAID = "paid", "缴费"
    REFUNDED = "refunded", "退费"
    LIBRARY_REUSED = "library_reused", "复用共享材料"
    PACKAGED = "packaged", "一件事"
    RATED = "rated", "评价"

    @classmethod
    def public(cls) -> tuple[CaseEventKind, ...]:
        """What the applicant sees of the record (the window's acts, not the staff's)."""
        return (
            cls.RECEIVED,
            cls.PACKAGED,
            cls.ACCEPTED,
            cls.CORRECTION_REQUESTED,
            cls.CORRECTION_RECEIVED,
            cls.CORRECTION_SUBMITTED,
            cls.APPLICATION_CORRECTED,
            cls.PAYMENT_DUE,
            cls.PAID,
            cls.REFUNDED,
            cls.LIBRARY_REUSED,
            cls.REFUSED,
            cls.WITHDRAWN,
            cls.DECIDED,
            cls.DELIVERED,
            cls.RATED,
            cls.PAUSED,
            cls.RESUMED,
        )


class PaymentStatus(Word):
    """Where a fee stands (``payment.status``)."""

    DUE = "due", "待缴费"
    PAID = "paid", "已缴费"
    PARTLY_REFUNDED = "partly_refunded", "部分退费"
    REFUNDED = "refunded", "已退费"


class SecurityEventKind(Word):
    """What the audit log records of accounts (``security_event.kind``)."""

    LOGIN_THROTTLED = "login_throttled", "登录受限"
    TOKEN_REVOKED = "token_revoked", "撤销访问令牌"


class RatingLevel(Word):
    """好差评's five grades (national 政务服务“好差评”制度), best first."""

    VERY_SATISFIED = "5", "非常满意"
    SATISFIED = "4", "满意"
    BASIC = "3", "基本满意"
    UNSATISFIED = "2", "不满意"
    VERY_UNSATISFIED = "1", "非常不满意"

    @property
    def is_bad(self) -> bool:
        """差评: 不满意 and 非常不满意 start a 差评整改."""
        return self in (RatingLevel.UNSATISFIED, RatingLevel.VERY_UNSATISFIED)


class RatingChannel(Word):
    """Where a rating was given."""

    PORTAL = "portal", "网上办事大厅"
    CODE = "code", "扫码评价"
    CALLBACK = "callback", "回访"
