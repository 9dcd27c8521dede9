"""Payment providers: who confirms that a fee was paid, and how refunds are recorded.

A provider confirms a ``Payment`` with the receipt its side issued (收据号码 or the
online platform's transaction number) and the amount, then delivers the message
``缴费完成`` to the case through ``app.messages.services`` with the data
``{"paid_amount": …, "receipt_no": …}``; the process moves on. There is no way
to mark a fee paid without a receipt number. The same receipt confirmed again for
the same fee is answered with the payment already recorded (idempotent); a receipt
number used for another fee is refused.

``OnSitePayment`` (现场缴费) is the window's; an online payment platform confirms
through ``POST /api/v1/cases/<number>/payments`` as an ``OnlinePayment`` under its
own name (docs/PAYMENTS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select

from app.cases.errors import CaseError
from app.cases.payments import ONSITE, PAYMENT_MESSAGE, money, payment_waits, provider_label
from app.clock import center_clock
from app.errors import Conflict
from app.messages import services as messages
from app.models.cases import CaseEvent
from app.models.payments import RECEIPT_MAX_CHARS, Payment, PaymentRefund
from app.vocabulary import CaseEventKind, PaymentStatus

RECEIPT_FORMAT = re.compile(rf"[A-Za-z0-9-]{{4,{RECEIPT_MAX_CHARS}}}")
REASON_MAX_CHARS = 500
PROVIDER_MAX_CHARS = 80
PROVIDER_FORMAT = re.compile(rf"[\w\-（）()·]{{1,{PROVIDER_MAX_CHARS}}}")


class PaymentError(CaseError):
    """A confirmation or refund refused as asked (bad receipt, wrong amount …)."""


@dataclass
class Confirmation:
    payment: Payment
    repeated: bool = False  # the same receipt was confirmed before: nothing new recorded


class PaymentProvider(Protocol):
    """What the platform asks of a way of paying."""

    name: str

    def confirm(self, session, payment: Payment, receipt_no, amount, actor: str) -> Confirmation:
        """Record the receipt and amount, then deliver ``缴费完成`` to the case."""

    def refund(
        self, session, payment: Payment, amount, reason, voucher_no, actor: str
    ) -> PaymentRefund:
        """Record money given back on a paid fee."""


def receipt_number(text, field: str = "receipt_no", label: str = "收据号码") -> str:
    """A receipt or voucher number: 4–40 letters, digits or hyphens, stored upper case."""
    value = str(text or "").strip()
    if not value:
        raise PaymentError(f"请填写{label}。", field)
    if not RECEIPT_FORMAT.fullmatch(value):
        raise PaymentError(
            f"{label}只能由字母、数字和连字符组成，4 到 {RECEIPT_MAX_CHARS} 位。", field
        )
    return value.upper()


def amount_of(text, field: str = "amount") -> Decimal:
    amount = money(text)
    if amount is None or amount <= 0:
        raise PaymentError("请填写金额（元，大于零，最多两位小数），例如 120.00。", field)
    return amount


class ReceiptProvider:
    """A provider that confirms with a receipt number and the exact amount due."""

    def __init__(self, name: str):
        self.name = name

    def confirm(self, session, payment: Payment, receipt_no, amount, actor: str) -> Confirmation:
        receipt, paid = receipt_number(receipt_no), amount_of(amount)
        recorded = session.scalars(select(Payment).where(Payment.receipt_no == receipt)).first()
        if recorded is not None:
            if recorded.id == payment.id and recorded.paid_amount == paid:
                return Confirmation(recorded, repeated=True)
            raise PaymentError(
                f"收据号码 {receipt} 已登记在办件 {recorded.case.number} 的缴费上，不能重复使用。",
                "receipt_no",
                status=409,
            )
        if payment.status != PaymentStatus.DUE:
            raise Conflict(f"这笔费用已经缴过（收据号码 {payment.receipt_no}），不能再次登记缴费。")
        if paid != payment.amount_due:
            raise PaymentError(
                f"缴费金额 {paid} 元与应缴金额 {payment.amount_due} 元不符，未登记。"
                "请核对收据后重新填写。",
                "amount",
            )
        case = payment.case
        if payment.wait_task_id not in {w.task_id for w in payment_waits(session, case.instance)}:
            raise Conflict(f"办件 {case.number} 当前不在等待缴费，不能登记缴费。")
        self._record(session, payment, receipt, paid, actor)
        messages.deliver_message(
            session,
            PAYMENT_MESSAGE,
            {"case_number": case.number},
            {"paid_amount": float(paid), "receipt_no": receipt},
            message_id=f"payment-{payment.id}-{receipt}",
            actor=actor,
        )
        return Confirmation(payment)

    def _record(self, session, payment: Payment, receipt: str, paid: Decimal, actor: str):
        payment.status = PaymentStatus.PAID
        payment.paid_amount = paid
        payment.receipt_no = receipt
        payment.provider = self.name
        payment.confirmed_by = actor
        payment.confirmed_at = center_clock(session).now()
        session.add(
            CaseEvent(
                case_id=payment.case_id,
                kind=CaseEventKind.PAID,
                actor=actor,
                message=f"{provider_label(self.name)} {paid} 元，收据号码 {receipt}",
                data={"payment": payment.id, "amount": str(paid), "receipt_no": receipt},
            )
        )
        session.flush()  # a receipt number taken meanwhile fails here (unique)

    def refund(
        self, session, payment: Payment, amount, reason, voucher_no, actor: str
    ) -> PaymentRefund:
        if payment.status not in (PaymentStatus.PAID, PaymentStatus.PARTLY_REFUNDED):
            raise Conflict("这笔费用尚未缴纳或已全部退还，不能退费。")
        refunded = amount_of(amount)
        if refunded > payment.refundable:
            raise PaymentError(
                f"退费金额 {refunded} 元超过可退金额 {payment.refundable} 元（已缴减已退）。",
                "amount",
            )
        why = str(reason or "").strip()
        if not why:
            raise PaymentError("请填写退费原因。", "reason")
        if len(why) > REASON_MAX_CHARS:
            raise PaymentError(f"退费原因最长 {REASON_MAX_CHARS} 个字。", "reason")
        voucher = receipt_number(voucher_no, "voucher_no", "退费凭证号码")
        row = PaymentRefund(
            payment_id=payment.id,
            case_id=payment.case_id,
            amount=refunded,
            reason=why,
            voucher_no=voucher,
            refunded_by=actor,
            refunded_at=center_clock(session).now(),
        )
        session.add(row)
        payment.refunds.append(row)
        payment.refunded_amount = (payment.refunded_amount or Decimal("0")) + refunded
        payment.status = (
            PaymentStatus.REFUNDED if payment.refundable <= 0 else PaymentStatus.PARTLY_REFUNDED
        )
        session.add(
            CaseEvent(
                case_id=payment.case_id,
                kind=CaseEventKind.REFUNDED,
                actor=actor,
                message=f"退费 {refunded} 元，凭证号码 {voucher}。原因：{why}",
                data={"payment": payment.id, "amount": str(refunded), "voucher_no": voucher},
            )
        )
        session.flush()
        return row


class OnSitePayment(ReceiptProvider):
    """现场缴费: the window takes the money, issues a receipt and records its number."""

    def __init__(self):
        super().__init__(ONSITE)


class OnlinePayment(ReceiptProvider):
    """An online payment platform confirming through the API under its own name."""

    def __init__(self, name: str):
        value = str(name or "").strip()
        if not PROVIDER_FORMAT.fullmatch(value) or value == ONSITE:
            raise PaymentError(
                f"provider（缴费平台名称）必填，最长 {PROVIDER_MAX_CHARS} 个字，"
                f"不能是 {ONSITE}（现场缴费只在窗口登记）。",
                "provider",
            )
        super().__init__(value)


def payment_of(session, case, payment_id: int) -> Payment | None:
    """The case's payment with this id (None for another case's)."""
    payment = session.get(Payment, payment_id)
    return payment if payment is not None and payment.case_id == case.id else None


def payment_for_receipt(session, case, receipt_no) -> Payment | None:
    """The case's payment confirmed with this receipt, if any (for idempotent confirms)."""
    try:
        receipt = receipt_number(receipt_no)
    except PaymentError:
        return None
    return session.scalars(
        select(Payment).where(Payment.case_id == case.id, Payment.receipt_no == receipt)
    ).first()


def register_platform_sender() -> None:
    """The platform itself sends ``缴费完成`` (its providers): deploy checks do not warn."""
    messages.platform_sends(PAYMENT_MESSAGE, "一门缴费接口（现场缴费、缴费平台）")


__all__ = [
    "Confirmation",
    "OnSitePayment",
    "OnlinePayment",
    "PaymentError",
    "PaymentProvider",
    "payment_for_receipt",
    "payment_of",
    "register_platform_sender",
]
