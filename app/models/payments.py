"""What a case owes and what was paid (缴费), and the refunds (退费) recorded against it.

A ``Payment`` is created when a case's process comes to wait for the message
``缴费完成`` (one per wait: ``wait_task_id`` is the waiting task), with its
缴费通知书. Paying records the receipt; refunds are rows of their own, never
edits or deletions of what was paid.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.cases import Case, CaseDocument
from app.vocabulary import PaymentStatus
from workflows.db import Base
from workflows.timeutil import utcnow

RECEIPT_MAX_CHARS = 40


class Payment(Base):
    """A fee due on a case at one payment step of its process, and how it was paid."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("case_id", "wait_task_id"),
        Index("ix_payment_case", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    # the payment step: the waiting task (one payment per wait) and its diagram element
    wait_task_id: Mapped[str] = mapped_column(String(36))
    step_bpmn_id: Mapped[str | None] = mapped_column(String(255))
    amount_due: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # how the amount was found: "item" (the item's fixed fee) or "decision:<DMN decision id>"
    basis: Mapped[str] = mapped_column(String(255))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("case_document.id"))
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.DUE, index=True)
    paid_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    receipt_no: Mapped[str | None] = mapped_column(String(RECEIPT_MAX_CHARS), unique=True)
    provider: Mapped[str | None] = mapped_column(String(80))
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    notice: Mapped[CaseDocument | None] = relationship()
    refunds: Mapped[list[PaymentRefund]] = relationship(
        back_populates="payment", order_by="PaymentRefund.id"
    )

    @property
    def status_zh(self) -> str:
        return PaymentStatus.label_of(self.status)

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded: paid less what was refunded already."""
        return (self.paid_amount or Decimal("0")) - (self.refunded_amount or Decimal("0"))


class PaymentRefund(Base):
    """Money given back on a payment (退费), with the voucher the window issued."""

    __tablename__ = "payment_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payment.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(String(500))
    voucher_no: Mapped[str] = mapped_column(String(RECEIPT_MAX_CHARS))
    refunded_by: Mapped[str | None] = mapped_column(String(80))
    refunded_at: Mapped[datetime] = mapped_column(default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
