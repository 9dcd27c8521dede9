"""Fees due on a case (缴费): the payment step, its 缴费通知书, and what the portal shows.

A diagram's payment step is any element waiting for the message ``缴费完成``
(``PAYMENT_MESSAGE``: a receive task, a catch event). When a case's process comes
to wait there, the case observer calls ``notice_due``: it records a ``Payment``
for that wait and issues the 缴费通知书, once per wait. The amount is the process
data's ``fee_amount`` when the diagram set one (a DMN business rule task before
the payment step, or a script), else the item's fixed ``fee_amount``; with
neither there is no notice and the case waits for an outside system's message.

Paying goes through a provider (``app/payments/providers.py``), which delivers
the message; nothing here marks a payment paid.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select

from app.engine import platform_runtime
from app.models.cases import Case, CaseEvent
from app.models.payments import Payment
from app.vocabulary import CaseEventKind, PaymentStatus
from workflows import models as wm
from workflows.messages import pending_waits

from . import documents
from .errors import CaseError

# The message a payment step waits for, and the data key a diagram sets its fee in.
PAYMENT_MESSAGE = "缴费完成"
FEE_KEY = "fee_amount"
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
ONSITE = "onsite"  # the window's provider (现场缴费); online platforms use their own names
PROVIDER_LABELS = {ONSITE: "现场缴费"}


class NoFeeKnown(CaseError):
    """The diagram's fee (``fee_amount`` in the data) is not an amount."""


def money(value) -> Decimal | None:
    """An amount in 元 with 2 decimals, or None when ``value`` is not a valid amount."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        return None
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        return None  # more than 2 decimals: not an amount in 元 and 分
    return amount.quantize(CENT)


# --- 大写 (Chinese capital numerals) ------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿")


def _group_words(number: int) -> str:
    """0–9999 in capitals, with 零 for inner gaps (no leading or trailing 零)."""
    words, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + _UNITS[position]
    return words


def capital_amount(amount: Decimal) -> str:
    """The amount as written on receipts: 壹仟贰佰元整, 捌佰零伍元伍角, 零元整."""
    amount = amount.quantize(CENT)
    yuan, cents = int(amount), int((amount * 100) % 100)
    groups, rest = [], yuan
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    words, gap = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            gap = bool(words)
            continue
        if words and (gap or group < 1000):
            words += "零"
        words += _group_words(group) + _GROUPS[index]
        gap = False
    words = (words or "零") + "元"
    jiao, fen = cents // 10, cents % 10
    if not cents:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    return words + (_DIGITS[fen] + "分" if fen else "")


# --- the payment step ----------------------------------------------------------------


def payment_waits(session, instance: wm.ProcessInstance) -> list[wm.InstanceWait]:
    """The instance's waits for ``缴费完成`` (its payment steps now)."""
    return [
        w
        for w in pending_waits(session, instance)
        if w.kind == wm.MESSAGE and w.name == PAYMENT_MESSAGE
    ]


def fee_due(session, case: Case, instance: wm.ProcessInstance) -> tuple[Decimal, str] | None:
    """``(amount, basis)``: the process data's ``fee_amount``, else the item's fixed fee;
    None when neither names a fee (then no notice: an outside system sends 缴费完成)."""
    data = instance.data or {}
    if data.get(FEE_KEY) not in (None, ""):
        amount = money(data[FEE_KEY])
        if amount is None or amount <= 0:
            raise NoFeeKnown(
                f"流程核定的收费金额 {str(data[FEE_KEY])[:40]} 不是有效的金额"
                "（元，大于零，最多两位小数）。请联系流程设计员检查决策表。"
            )
        return amount, _decision_basis(session, instance)
    amount = case.item.fee_amount
    if amount is None or amount <= 0:
        return None
    return Decimal(amount).quantize(CENT), "item"


def _decision_basis(session, instance: wm.ProcessInstance) -> str:
    """``decision:<decision table id>`` of the DMN table that outputs ``fee_amount``."""
    specs = platform_runtime(session).process_specs(instance.definition_id)
    for spec in specs.spec.task_specs.values():
        table = getattr(getattr(spec, "dmnEngine", None), "decision_table", None)
        if table is not None and any(o.name == FEE_KEY for o in table.outputs):
            return f"decision:{table.id}"
    return "data"


def notice_due(session, case: Case, instance: wm.ProcessInstance) -> list[Payment]:
    """Record the fee and issue the 缴费通知书 for each new payment wait (once per wait)."""
    created = []
    waits = payment_waits(session, instance)
    if not waits:
        return created
    fee = fee_due(session, case, instance)
    if fee is None:
        return created
    amount, basis = fee
    for wait in waits:
        found = session.scalars(
            select(Payment).where(Payment.case_id == case.id, Payment.wait_task_id == wait.task_id)
        ).first()
        if found is not None:
            continue
        payment = Payment(
            case_id=case.id,
            wait_task_id=wait.task_id,
            step_bpmn_id=wait.bpmn_id,
            amount_due=amount,
            basis=basis,
            status=PaymentStatus.DUE,
        )
        session.add(payment)
        session.flush()
        payment.notice = documents.issue(
            session, case, "payment_notice", actor=None, **notice_facts(case, amount)
        )
        session.add(
            CaseEvent(
                case_id=case.id,
                kind=CaseEventKind.PAYMENT_DUE,
                message=f"应缴 {amount} 元",
                data={"payment": payment.id, "amount": str(amount), "basis": basis},
            )
        )
        created.append(payment)
    return created


def notice_facts(case: Case, amount: Decimal) -> dict:
    """The 缴费通知书's own facts: the amount in figures and capitals, where to pay."""
    item = case.item
    return {
        "amount": f"{amount:.2f}",
        "amount_capital": capital_amount(amount),
        "fee_note": item.fee_note or "",
        "window": item.window or "",
        "address": item.address or "",
        "hours": item.hours or "",
        "phone": item.phone or "",
    }


# --- for the case page and the portal -------------------------------------------------


def provider_label(name: str | None) -> str:
    """How a payment was made, in words: 现场缴费, or the online platform's name."""
    return PROVIDER_LABELS.get(name or "", name or "")


def payments_of(session, case: Case) -> list[Payment]:
    """Every fee of the case, oldest first, with refunds."""
    return list(
        session.scalars(select(Payment).where(Payment.case_id == case.id).order_by(Payment.id))
    )


def open_payments(session, case: Case) -> list[Payment]:
    """The fees the applicant still has to pay: 待缴费 while the process waits for them."""
    due = [p for p in payments_of(session, case) if p.status == PaymentStatus.DUE]
    if not due or case.instance is None:
        return []
    waiting = {w.task_id for w in payment_waits(session, case.instance)}
    return [p for p in due if p.wait_task_id in waiting]


__all__ = [
    "FEE_KEY",
    "PAYMENT_MESSAGE",
    "capital_amount",
    "fee_due",
    "money",
    "notice_due",
    "open_payments",
    "payment_waits",
    "payments_of",
    "provider_label",
]
