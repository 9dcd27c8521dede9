"""Approval items and the materials an application needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.org import Department
from app.vocabulary import ItemStatus
from workflows.db import Base
from workflows.timeutil import utcnow

# 监督件: 差评整改, 投诉, 办不成事 run as cases of their own items (app/feedback/)
FEEDBACK_KIND = "feedback"
KINDS = {
    "instant": "即办件",
    "promise": "承诺件",
    "report": "上报件",
    "joint": "联办件",
    FEEDBACK_KIND: "监督件",
}
MATERIAL_FORMS = {
    "original": "原件",
    "copy": "复印件",
    "both": "原件及复印件",
    "electronic": "电子件",
}


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    # 实施机关: in whose name the case's notices and decisions are issued (None: the lead
    # department's, see ``issuing_authority``)
    authority: Mapped[str | None] = mapped_column(String(200))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)  # 受理条件
    statutory_days: Mapped[int] = mapped_column(default=20)
    committed_days: Mapped[int] = mapped_column(default=0)  # 0: decided on the spot (即办件)
    fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    fee_note: Mapped[str | None] = mapped_column(Text)
    online: Mapped[bool] = mapped_column(default=False)
    green_channel: Mapped[bool] = mapped_column(default=False)
    # where to go (办理地点): the window, the address, a phone, the opening hours
    window: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    hours: Mapped[str | None] = mapped_column(String(200))
    process_id: Mapped[str | None] = mapped_column(String(255))
    # what an approval issues, e.g. 食品小作坊登记证 (资料共享库); None: the decision's title
    result_name: Mapped[str | None] = mapped_column(String(200))
    # 黄牌/红牌 thresholds of this item ("share:0.8", "left:2", "overdue"); None: the center's
    warn_yellow: Mapped[str | None] = mapped_column(String(16))
    warn_red: Mapped[str | None] = mapped_column(String(16))
    # per-step limits in working days, by the step's bpmn id or name; a diagram's own
    # ``limit_days``/``limit_hours`` wins
    step_limits: Mapped[dict | None]
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.DRAFT, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead_department: Mapped[Department | None] = relationship()
    materials: Mapped[list[ItemMaterial]] = relationship(
        back_populates="item", order_by="ItemMaterial.position", cascade="all, delete-orphan"
    )

    topics: Mapped[list[ItemTopic]] = relationship(
        back_populates="item", order_by="ItemTopic.id", cascade="all, delete-orphan"
    )

    @property
    def kind_zh(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def issuing_authority(self) -> str | None:
        """The 实施机关: the catalog's ``authority``, else the lead department's name."""
        if self.authority:
            return self.authority
        return self.lead_department.name if self.lead_department is not None else None

    @property
    def status_zh(self) -> str:
        return ItemStatus.label_of(self.status)


class ItemMaterial(Base):
    """A material an application must (or may) bring."""

    __tablename__ = "item_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(16), default="original")
    copies: Mapped[int] = mapped_column(default=1)
    required: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text)
    blank_form_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    blank_form_name: Mapped[str | None] = mapped_column(String(200))
    example_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    example_name: Mapped[str | None] = mapped_column(String(200))
    # 前置审批: an earlier result of the item with this code satisfies the material
    satisfied_by_item: Mapped[str | None] = mapped_column(String(40))

    item: Mapped[Item] = relationship(back_populates="materials")

    @property
    def form_zh(self) -> str:
        return MATERIAL_FORMS.get(self.form, self.form)


TOPIC_AUDIENCES = {"person": "个人", "company": "法人"}


class ItemTopic(Base):
    """A 主题 under which the guide lists an item: a life event (个人) or an
    enterprise event (法人)."""

    __tablename__ = "item_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(40), index=True)

    item: Mapped[Item] = relationship(back_populates="topics")


class ItemPackage(Base):
    """一件事: several items applied for together with one form and one material list.

    ``same_fields`` and ``same_materials`` name answers and materials of different
    items that are one and the same for the applicant (``[["ITEM-CODE", "field or
    material name"], ...]`` per group); fields and materials of the same name are
    the same anyway. Names, not ids: a reloaded item's material rows are new.
    """

    __tablename__ = "item_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.DRAFT, index=True)
    same_fields: Mapped[list] = mapped_column(default=list)
    same_materials: Mapped[list] = mapped_column(default=list)
    topics: Mapped[list] = mapped_column(default=list)  # [[audience, name], ...]
    # the 一件事 window that receives the package and hands out every result (统一出证)
    window: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[ItemPackageMember]] = relationship(
        back_populates="package",
        order_by="ItemPackageMember.position",
        cascade="all, delete-orphan",
    )

    @property
    def items(self) -> list[Item]:
        return [member.item for member in self.members]

    @property
    def online(self) -> bool:
        return all(item.online and item.status == ItemStatus.PUBLISHED for item in self.items)

    @property
    def committed_days(self) -> int:
        """The items run side by side: the package takes as long as its longest item."""
        return max((item.committed_days for item in self.items), default=0)

    @property
    def statutory_days(self) -> int:
        return max((item.statutory_days for item in self.items), default=0)


class ItemPackageMember(Base):
    __tablename__ = "item_package_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("item_package.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    position: Mapped[int] = mapped_column(default=0)

    package: Mapped[ItemPackage] = relationship(back_populates="members")
    item: Mapped[Item] = relationship()
