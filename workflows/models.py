"""Tables of the runtime: deployments, definitions, instances, work items, history.

Worklists and dashboards query ``work_item`` and ``process_instance`` rows only;
the serialized workflow lives apart in ``instance_state`` and is read only when
an instance changes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .timeutil import utcnow

# Instance statuses
RUNNING = "running"
COMPLETED = "completed"
TERMINATED = "terminated"
ERROR = "error"

# Work item statuses
OPEN = "open"
DONE = "completed"
CANCELLED = "cancelled"
RETURNED = "returned"  # sent back to an earlier step (退回) or taken back (撤回)

# Delegation states of an open work item (委派)
DELEGATION_PENDING = "pending"  # the delegate has not answered yet
DELEGATION_ANSWERED = "answered"  # the answer is back with the owner


class Deployment(Base):
    """One uploaded bundle of files; identical bundles are stored once."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    dialect: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))
    warnings: Mapped[list] = mapped_column(default=list)

    files: Mapped[list[DeploymentFile]] = relationship(
        back_populates="deployment", order_by="DeploymentFile.name"
    )
    definitions: Mapped[list[ProcessDefinition]] = relationship(
        back_populates="deployment", order_by="ProcessDefinition.process_id"
    )


class DeploymentFile(Base):
    __tablename__ = "deployment_file"
    __table_args__ = (UniqueConstraint("deployment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # bpmn | dmn | form
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)

    deployment: Mapped[Deployment] = relationship(back_populates="files")


class ProcessDefinition(Base):
    """A version of an executable process; running instances keep theirs."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    # {called process id: definition id} pinned at deploy time
    called_definitions: Mapped[dict] = mapped_column(default=dict)
    # {user task bpmn id: {"ref": str, "schema": JSON Schema}}
    forms: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deployment: Mapped[Deployment] = relationship(back_populates="definitions")


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_instance_timer", "status", "next_timer_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RUNNING)
    revision: Mapped[int] = mapped_column(default=1)
    data: Mapped[dict] = mapped_column(default=dict)
    next_timer_at: Mapped[datetime | None]
    # {"message", "bpmn_id", "task_id", "line", "detail"} while status is error
    error: Mapped[dict | None]
    started_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)

    definition: Mapped[ProcessDefinition] = relationship()


class InstanceState(Base):
    """The serialized SpiffWorkflow state of an instance (without its specs)."""

    __tablename__ = "instance_state"

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(Text)


class WorkItem(Base):
    """A READY user or manual task, mirrored for worklists."""

    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_open", "status", "lane", "priority"),
        Index("ix_work_item_instance", "instance_id", "status"),
        Index("ix_work_item_assignee", "assignee", "status"),
        Index("ix_work_item_delegate", "delegated_to", "delegation"),
        Index("ix_work_item_completed_by", "completed_by", "completed_at", "id"),  # 已办
        # 待办: routed candidates are checked against this small index alone
        Index(
            "ix_work_item_unclaimed",
            "id",
            postgresql_where=text("status = 'open' AND assignee IS NULL"),
            sqlite_where=text("status = 'open' AND assignee IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="user")  # user | manual
    properties: Mapped[dict] = mapped_column(default=dict)
    form: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    assignee: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(80))
    # the colleague whose work it was when a backup (AB角) completed it
    on_behalf_of: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict | None]
    version: Mapped[int] = mapped_column(default=1)
    # the work item whose completion opened this one (for 撤回)
    previous_item_id: Mapped[int | None]
    # 委派: the owner asks a colleague for an opinion and completes the item afterwards
    delegated_by: Mapped[str | None] = mapped_column(String(80))
    delegated_to: Mapped[str | None] = mapped_column(String(80))
    delegation: Mapped[str | None] = mapped_column(String(16))
    delegation_answer: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[ProcessInstance] = relationship()


class InstanceEvent(Base):
    """Append-only history of an instance: what ran, who did it, with what data."""

    __tablename__ = "instance_event"
    __table_args__ = (Index("ix_instance_event_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    bpmn_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(36))
    work_item_id: Mapped[int | None]
    actor: Mapped[str | None] = mapped_column(String(80))
    on_behalf_of: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict | None]
    message: Mapped[str | None] = mapped_column(Text)


class CalendarDay(Base):
    """An administrator's override of one date: a working day or a rest day."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    workday: Mapped[bool]
    note: Mapped[str | None] = mapped_column(String(120))
    set_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# Kinds of waits and deliveries (messages go to one instance, signals to all)
MESSAGE = "message"
SIGNAL = "signal"


class InstanceWait(Base):
    """A message or signal a running instance waits for, mirrored for delivery.

    Rows are rewritten when a change is saved (``messages.mirror_waits``), so a
    delivery finds its instance with one indexed query and restores nothing else.
    ``correlation`` is the canonical JSON of the wait's correlation keys
    (``{"case_number": "…"}`` unless the diagram declares correlation properties).
    """

    __tablename__ = "instance_wait"
    __table_args__ = (
        Index("ix_instance_wait_lookup", "kind", "name", "correlation"),
        Index("ix_instance_wait_instance", "instance_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # message | signal
    name: Mapped[str] = mapped_column(String(255))
    correlation: Mapped[str] = mapped_column(String(1000), default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveredMessage(Base):
    """A client-supplied message or signal id and what delivering it did (idempotency)."""

    __tablename__ = "delivered_message"
    __table_args__ = (UniqueConstraint("kind", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict | None]
    delivered_by: Mapped[str | None] = mapped_column(String(80))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageOutbox(Base):
    """A message or signal an instance threw, delivered after the thrower's commit."""

    __tablename__ = "message_outbox"
    __table_args__ = (Index("ix_message_outbox_pending", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(255))
    correlation: Mapped[dict] = mapped_column(default=dict)
    payload: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    result: Mapped[dict | None]


class MessageSender(Base):
    """A message or signal name an outside system is registered to send (for deploy checks)."""

    __tablename__ = "message_sender"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str | None] = mapped_column(String(255))  # who sends it (e.g. 缴费平台)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
