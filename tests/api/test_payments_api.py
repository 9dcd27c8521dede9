"""An online payment platform confirms a fee: POST /api/v1/cases/<number>/payments."""

from __future__ import annotations

from decimal import Decimal

from app.models.payments import Payment
from app.vocabulary import CaseStatus, PaymentStatus

from ..cases.test_payments import approved_ad, due_payment
from ..cases.test_window_pages import AD as AD_WALL
from ..cases.test_window_pages import case_of, intake, received, window
from ..conftest import api_for


def confirm(api, number: str, **changes):
    body = {"provider": "省统一公共支付平台", "receipt_no": "ZF-20261205-0001", "amount": "200.00"}
    return api.post(f"/api/v1/cases/{number}/payments", {**body, **changes})


def test_the_platform_confirms_once_and_a_repeat_gets_the_same_payment(app, shipped, session):
    number = approved_ad(app, session, "wall")
    payment = due_payment(session, number)
    platform = api_for(app, "bigdata_admin")
    first = confirm(platform, number)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["id"], body["status"], body["paid_amount"]) == (payment.id, "paid", "200.00")
    assert body["provider"] == "省统一公共支付平台" and body["receipt_no"] == "ZF-20261205-0001"
    assert case_of(session, number).status == CaseStatus.DECIDED
    again = confirm(platform, number)
    assert again.status_code == 200 and again.get_json() == body
    session.expire_all()
    assert session.get(Payment, payment.id).paid_amount == Decimal("200.00")


def test_refusals_of_the_platform(app, shipped, session, client):
    number = approved_ad(app, session, "wall")
    platform = api_for(app, "bigdata_admin")
    wrong = confirm(platform, number, amount=180)
    assert (
        wrong.status_code == 422
        and "与应缴金额 200.00 元不符" in wrong.get_json()["error"]["message"]
    )
    assert confirm(platform, number, receipt_no="").status_code == 422
    assert confirm(platform, number, provider="onsite").status_code == 422
    assert confirm(platform, number, extra="x").status_code == 400
    assert client.post(f"/api/v1/cases/{number}/payments", json={}).status_code == 401
    clerk = api_for(app, "center_clerk")  # no 系统管理员 post
    assert confirm(clerk, number).status_code == 403
    assert confirm(platform, "4901022026120500001").status_code == 404
    session.expire_all()
    assert due_payment(session, number).status == PaymentStatus.DUE

    assert confirm(platform, number).status_code == 201
    other = approved_ad(app, session, "wall")
    taken = confirm(platform, other)  # the same receipt for another case's fee
    assert taken.status_code == 409 and "不能重复使用" in taken.get_json()["error"]["message"]


def test_a_case_not_waiting_for_payment_is_a_conflict(app, shipped, session):
    number = received(intake(window(app), session, "ZJJ-HWGG-SZSP", "accept", extra=AD_WALL))
    answer = confirm(api_for(app, "bigdata_admin"), number)
    assert answer.status_code == 409
    assert "当前不在等待缴费" in answer.get_json()["error"]["message"]


def test_another_countys_administrator_is_refused(app, shipped, session):
    from ..county import neighbour_county_user

    neighbour_county_user(session, "bs_admin", "admin")
    number = approved_ad(app, session, "wall")
    assert confirm(api_for(app, "bs_admin"), number).status_code == 403
    session.expire_all()
    assert due_payment(session, number).status == PaymentStatus.DUE
