"""``POST /cases/<number>/payments``: an online payment platform confirms a fee (docs/PAYMENTS.md)."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app import policy
from app.cases.payments import open_payments, provider_label
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.models.cases import Case
from app.models.payments import Payment
from app.payments.providers import OnlinePayment, payment_for_receipt
from app.policy import requires
from workflows.errors import NotFound

from .messages import _fields
from .serialize import iso
from .views import _json_body, api_user


def payment_json(payment: Payment) -> dict:
    return {
        "id": payment.id,
        "case_number": payment.case.number,
        "amount_due": f"{payment.amount_due:.2f}",
        "status": payment.status,
        "status_zh": payment.status_zh,
        "paid_amount": f"{payment.paid_amount:.2f}" if payment.paid_amount is not None else None,
        "refunded_amount": f"{payment.refunded_amount or 0:.2f}",
        "receipt_no": payment.receipt_no,
        "provider": payment.provider,
        "provider_zh": provider_label(payment.provider),
        "confirmed_at": iso(payment.confirmed_at),
        "notice_verification_code": payment.notice.verification_code if payment.notice else None,
    }


@requires("messages")
def confirm_payment(number: str):
    body = _json_body()
    _fields(body, {"provider", "receipt_no", "amount"})
    case = db.session.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        raise NotFound(f"办件 {number} 不存在。")
    if case.instance is None or not policy.manages_instance(db.session, api_user(), case.instance):
        raise Forbidden("该办件不在您管理的区域内，不能登记缴费。")
    provider = OnlinePayment(body.get("provider"))
    payment = payment_for_receipt(db.session, case, body.get("receipt_no"))
    if payment is None:
        due = open_payments(db.session, case)
        if not due:
            raise Conflict(f"办件 {number} 当前不在等待缴费，没有待缴的费用。")
        payment = due[0]
    done = provider.confirm(
        db.session, payment, body.get("receipt_no"), body.get("amount"), api_user().username
    )
    answer = payment_json(done.payment)
    db.session.commit()
    return jsonify(answer), 200 if done.repeated else 201
