"""The window's payment buttons on the case page: 现场缴费 and 退费."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app import policy
from app.cases.access import visible_case
from app.cases.places import may_receive_at
from app.errors import refusals_return_to
from app.extensions import db
from app.policy import requires

from .providers import OnSitePayment, payment_of


def _window_payment(number: str, payment_id: int):
    """The case (visible, at a place of the user's windows) and its payment, or 403/404."""
    case = visible_case(number)
    if not (
        policy.has(current_user, "intake") and may_receive_at(db.session, current_user, case.place)
    ):
        abort(403)
    payment = payment_of(db.session, case, payment_id)
    if payment is None:
        abort(404)
    page = url_for("cases.detail", number=number, _anchor="payments")
    refusals_return_to(page)
    return payment, page


@requires("intake")
def confirm(number: str, payment_id: int):
    payment, page = _window_payment(number, payment_id)
    done = OnSitePayment().confirm(
        db.session,
        payment,
        request.form.get("receipt_no", ""),
        request.form.get("amount", ""),
        current_user.username,
    )
    db.session.commit()
    if done.repeated:
        flash(f"收据 {done.payment.receipt_no} 已经登记过，未重复记录。", "warning")
    else:
        flash(
            f"已登记现场缴费 {done.payment.paid_amount} 元，收据号码 {done.payment.receipt_no}。",
            "success",
        )
    return redirect(page)


@requires("intake")
def refund(number: str, payment_id: int):
    payment, page = _window_payment(number, payment_id)
    row = OnSitePayment().refund(
        db.session,
        payment,
        request.form.get("amount", ""),
        request.form.get("reason", ""),
        request.form.get("voucher_no", ""),
        current_user.username,
    )
    db.session.commit()
    flash(f"已登记退费 {row.amount} 元，凭证号码 {row.voucher_no}。", "success")
    return redirect(page)
