"""A case wraps one process instance with what the window and the applicant see."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.items import Item, ItemPackage
from app.models.org import Department, Region
from app.vocabulary import CaseChannel, CaseStatus
from workflows.db import Base
from workflows.models import ProcessInstance
from workflows.timeutil import utcnow

APPLICANT_TYPES = {"person": "个人", "company": "企业/单位"}
OPEN_UNTIL = datetime(9999, 12, 31)  # ``Case.ended_at`` of a case still open


class Case(Base):
    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_status_place", "status", "place_id"),
        Index("ix_case_item", "item_id", "status"),
        Index("ix_case_received_by", "received_by", "received_at"),  # 我经办的办件
        # 统计分析 (app/statistics/): what happened in a period, what was open at its end
        Index("ix_case_received_at", "received_at"),
        Index("ix_case_accepted_at", "accepted_at"),
        Index("ix_case_decided_on", "decided_on"),
        Index("ix_case_delivered_at", "delivered_at"),
        Index("ix_case_closed_at", "closed_at"),
        Index("ix_case_ended_at", "ended_at"),
        # 我的办件 (app/portal/my_cases.py): a verified applicant's cases received at a window
        Index("ix_case_applicant_id_number", "applicant_id_number", "applicant_type"),
        # 待送达 (app/cases/delivery.py): decided cases by receiver, a few of all
        Index(
            "ix_case_decided_received_by",
            "received_by",
            "place_id",
            postgresql_where=text("status = 'decided'"),
            sqlite_where=text("status = 'decided'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.APPLIED)
    channel: Mapped[str] = mapped_column(String(16), default=CaseChannel.WINDOW)
    green_channel: Mapped[bool] = mapped_column(default=False)

    applicant_type: Mapped[str] = mapped_column(String(16), default="person")
    applicant_name: Mapped[str] = mapped_column(String(200), info={"label": "申请人名称"})
    applicant_id_number: Mapped[str] = mapped_column(String(32), info={"label": "证件号码"})
    applicant_phone: Mapped[str] = mapped_column(String(32), info={"label": "联系电话"})
    contact_name: Mapped[str | None] = mapped_column(String(80), info={"label": "联系人"})
    # the portal account that applied online or linked the case (我的办件)
    applicant_account_id: Mapped[int | None] = mapped_column(ForeignKey("applicant.id"), index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    data: Mapped[dict] = mapped_column(default=dict)
    # 一件事: the package this case was applied for in, with its sibling cases
    package_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_package.id"), index=True)

    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by: Mapped[str | None] = mapped_column(String(80))
    decision_due: Mapped[date | None] = mapped_column(
        Date
    )  # Art. 32: 受理/补正/不予受理 by this day
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(80))
    accepted_on_day_received: Mapped[bool] = mapped_column(default=False)  # deemed accepted
    promised_date: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None]
    # the center's local day of the decision and the working days it took (pauses out),
    # set with the decision (cases/services.py::decision_facts), read by the statistics
    decided_on: Mapped[date | None] = mapped_column(Date)
    used_workdays: Mapped[int | None]
    result: Mapped[str | None] = mapped_column(String(16))
    delivered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # when the case stopped being worked on: its decision, else its closing; OPEN_UNTIL
    # while neither (kept by ``_keep_ended``): "open at a moment" is one range per column
    ended_at: Mapped[datetime] = mapped_column(default=lambda: OPEN_UNTIL)
    close_reason: Mapped[str | None] = mapped_column(Text)
    query_password_hash: Mapped[str | None] = mapped_column(String(255))

    item: Mapped[Item] = relationship()
    instance: Mapped[ProcessInstance | None] = relationship()
    place: Mapped[Region] = relationship(foreign_keys=[place_id])
    county: Mapped[Region] = relationship(foreign_keys=[county_id])
    lead_department: Mapped[Department | None] = relationship()
    package_case: Mapped[CasePackage | None] = relationship(back_populates="cases")
    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", order_by="CaseMaterial.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[CaseDocument]] = relationship(
        back_populates="case", order_by="CaseDocument.id", cascade="all, delete-orphan"
    )

    @property
    def status_zh(self) -> str:
        return CaseStatus.label_of(self.status)

    @property
    def channel_zh(self) -> str:
        return CaseChannel.label_of(self.channel)


class CasePackage(Base):
    """一件事一次办: one submission of a package, one case per item, one package number.

    The applicant and the window follow the package as a whole; its results are handed
    out together once every case has ended (统一出证, ``delivered_at``).
    """

    __tablename__ = "case_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("item_package.id"))
    channel: Mapped[str] = mapped_column(String(16), default=CaseChannel.WINDOW)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id_number: Mapped[str] = mapped_column(String(32))
    applicant_account_id: Mapped[int | None] = mapped_column(ForeignKey("applicant.id"), index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by: Mapped[str | None] = mapped_column(String(80))
    delivered_at: Mapped[datetime | None]
    delivered_by: Mapped[str | None] = mapped_column(String(80))

    package: Mapped[ItemPackage] = relationship()
    place: Mapped[Region] = relationship(foreign_keys=[place_id])
    cases: Mapped[list[Case]] = relationship(back_populates="package_case", order_by="Case.id")

    @property
    def channel_zh(self) -> str:
        return CaseChannel.label_of(self.channel)


class CaseMaterial(Base):
    """A material of a case: expected by the item, received or missing, with its file."""

    __tablename__ = "case_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    item_material_id: Mapped[int | None] = mapped_column(ForeignKey("item_material.id"))
    name: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(default=True)
    received: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime | None]
    received_round: Mapped[int] = mapped_column(default=0)  # 0 at intake, n at the n-th 补正
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    filename: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="materials")


class CaseDocument(Base):
    """A notice or decision issued for a case; its facts are frozen when issued."""

    __tablename__ = "case_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    facts: Mapped[dict] = mapped_column(default=dict)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(String(80))

    case: Mapped[Case] = relationship(back_populates="documents")


class CaseEvent(Base):
    """What happened to a case outside its process: intake, notices, withdrawal, delivery."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(80))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None]


class CaseSequence(Base):
    """The last case number issued per county and day."""

    __tablename__ = "case_sequence"
    __table_args__ = (UniqueConstraint("county_code", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12))
    day: Mapped[date] = mapped_column(Date)
    last: Mapped[int] = mapped_column(default=0)


SPECIAL_PROCEDURES = ("听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审", "公示")
PAUSE_KINDS = {"correction": "等待补正", "special": "特别程序", "suspended": "挂起"}


class CasePause(Base):
    """A stretch of time not counted against the case's limit.

    补正 inside the process (the case waits for the applicant) and the 特别程序 of
    Art. 45 of the Administrative Licensing Law. When a pause ends, the promised
    date moves by the working days it lasted (``paused_workdays``).
    """

    __tablename__ = "case_pause"
    __table_args__ = (Index("ix_case_pause_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # correction | special | suspended
    procedure: Mapped[str | None] = mapped_column(String(16))  # one of SPECIAL_PROCEDURES
    reason: Mapped[str | None] = mapped_column(Text)
    expected_end: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by: Mapped[str | None] = mapped_column(String(80))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(80))
    end_note: Mapped[str | None] = mapped_column(Text)
    paused_workdays: Mapped[int | None]

    @property
    def title(self) -> str:
        return self.procedure or PAUSE_KINDS.get(self.kind, self.kind)


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_ended(_mapper, _connection, case: Case) -> None:
    case.ended_at = case.decided_at or case.closed_at or OPEN_UNTIL
