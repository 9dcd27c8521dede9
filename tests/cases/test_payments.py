"""缴费 at the window: the 缴费通知书 when the process reaches its payment step, the
amount (fixed on the item or by the diagram's decision table), paying with a
receipt, refunds, and who may do it."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pypdf
from sqlalchemy import select

from app.cases.payments import PAYMENT_MESSAGE, capital_amount, open_payments, payments_of
from app.models.cases import CaseEvent
from app.models.payments import Payment
from app.vocabulary import CaseStatus, PaymentStatus

from ..conftest import CSRF, signed_in
from .test_window_pages import AD, case_of, case_page, do, first_review, intake, received, window

CASE_PAGE = "/cases/{}"


def approved_ad(app, session, facility: str = "wall") -> str:
    """户外广告 accepted, first review, the three cosigns and the deputy's approval."""
    clerk = window(app)
    number = received(
        intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra={**AD, "f_facility_type": facility})
    )
    first_review(app, session, number, "approve")
    for username in ("scj_reviewer", "ly_reviewer", "zrzy_reviewer"):
        do(app, session, username, number, "Task_Cosign", {"decision": "agree", "opinion": "同意"})
    sign = {"decision": "approve", "opinion": "同意设置", "certificate_no": "QS-HWGG-2026-001"}
    do(app, session, "zjj_deputy", number, "Task_Sign", sign)
    return number


def pay(client, number: str, payment_id: int, receipt_no: str, amount: str, action="confirm"):
    """Post the 缴费 panel's form; the page the window is sent back to."""
    html = case_page(client, number)
    form = {"csrf_token": CSRF.search(html).group(1), "receipt_no": receipt_no, "amount": amount}
    response = client.post(f"/cases/{number}/payments/{payment_id}/{action}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_capital_amounts_are_written_as_on_receipts():
    assert capital_amount(Decimal("200")) == "贰佰元整"
    assert capital_amount(Decimal("1000")) == "壹仟元整"
    assert capital_amount(Decimal("805.50")) == "捌佰零伍元伍角"
    assert capital_amount(Decimal("10001")) == "壹万零壹元整"
    assert capital_amount(Decimal("1200.05")) == "壹仟贰佰元零伍分"
    assert capital_amount(Decimal("100000")) == "壹拾万元整"


def test_the_case_waits_for_payment_with_one_notice_by_the_decision_table(app, shipped, session):
    number = approved_ad(app, session, "wall")
    case = case_of(session, number)
    assert case.status == CaseStatus.PROCESSING  # not decided before the fee is paid
    (payment,) = payments_of(session, case)
    assert open_payments(session, case) == [payment]
    assert payment.amount_due == Decimal("200.00")
    assert payment.basis == "decision:outdoor_ad_fee_table"
    assert payment.status == PaymentStatus.DUE and payment.receipt_no is None
    notices = [d for d in case.documents if d.kind == "payment_notice"]
    assert notices == [payment.notice]
    assert notices[0].facts["amount"] == "200.00"
    assert notices[0].facts["amount_capital"] == "贰佰元整"
    page = case_page(window(app), number)
    assert f"等待消息：{PAYMENT_MESSAGE}" in page
    assert "应缴 <strong>¥200.00</strong> 元" in page and "待缴费" in page
    kinds = [e.kind for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert kinds.count("payment_due") == 1


def due_payment(session, number: str) -> Payment:
    (payment,) = open_payments(session, case_of(session, number))
    return payment


def test_paid_at_the_window_the_case_is_decided_and_the_permit_issued(app, shipped, session):
    number = approved_ad(app, session, "column")
    payment = due_payment(session, number)
    assert payment.amount_due == Decimal("800.00")
    clerk = window(app)
    page = pay(clerk, number, payment.id, "qs-2026-000123", "800")
    assert "已登记现场缴费 800.00 元，收据号码 QS-2026-000123" in page
    case = case_of(session, number)
    assert case.status == CaseStatus.DECIDED and case.result == "approve"
    assert [d.kind for d in case.documents][-2:] == ["payment_notice", "decision"]
    paid = session.get(Payment, payment.id)
    assert paid.status == PaymentStatus.PAID and paid.paid_amount == Decimal("800.00")
    assert (paid.receipt_no, paid.provider, paid.confirmed_by) == (
        "QS-2026-000123",
        "onsite",
        "center_clerk",
    )
    assert case.instance.data["paid_amount"] == 800.0
    assert case.instance.data["receipt_no"] == "QS-2026-000123"
    assert open_payments(session, case) == []
    assert (
        "现场缴费" in page and "缴费完成" not in re.sub(r"<[^>]+>", "", page).split("办理过程")[0]
    )
    history = case_page(clerk, number)
    assert "缴费通知" in history and "收据号码 QS-2026-000123" in history
    # 待送达 as for any decided case: the window then delivers
    assert "已送达" in pay_like_deliver(clerk, number)


def pay_like_deliver(client, number: str) -> str:
    html = case_page(client, number)
    form = {"csrf_token": CSRF.search(html).group(1), "receiver": "周建华"}
    response = client.post(f"/cases/{number}/deliver", data=form)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_items_fixed_fee_when_the_decision_table_sets_none(app, shipped, session):
    number = approved_ad(app, session, "signboard")  # 门头招牌: no row of the table
    payment = due_payment(session, number)
    assert (payment.amount_due, payment.basis) == (Decimal("100.00"), "item")
    assert payment.notice.facts["amount_capital"] == "壹佰元整"
    assert "门头招牌及其他设施100元" in payment.notice.facts["fee_note"]


def test_a_refusal_owes_nothing(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    first_review(app, session, number, "approve")
    for username in ("scj_reviewer", "ly_reviewer", "zrzy_reviewer"):
        do(app, session, username, number, "Task_Cosign", {"decision": "agree", "opinion": "同意"})
    do(
        app,
        session,
        "zjj_deputy",
        number,
        "Task_Sign",
        {"decision": "reject", "opinion": "位置不符合规划"},
    )
    case = case_of(session, number)
    assert case.status == CaseStatus.DECIDED and case.result == "reject"
    assert payments_of(session, case) == []


def test_wrong_amount_and_bad_receipts_are_refused_and_nothing_is_recorded(app, shipped, session):
    number = approved_ad(app, session, "wall")
    payment = due_payment(session, number)
    clerk = window(app)
    for receipt, amount, words in (
        ("QS-0001", "180", "缴费金额 180.00 元与应缴金额 200.00 元不符，未登记"),
        ("QS-0001", "200.001", "请填写金额"),
        ("QS-0001", "两百", "请填写金额"),
        ("", "200", "请填写收据号码"),
        ("QS 0001", "200", "收据号码只能由字母、数字和连字符组成"),
        ("Q1", "200", "4 到 40 位"),
        ("Q" * 41, "200", "4 到 40 位"),
    ):
        page = pay(clerk, number, payment.id, receipt, amount)
        assert words in page, (receipt, amount)
    session.expire_all()
    assert session.get(Payment, payment.id).status == PaymentStatus.DUE
    assert case_of(session, number).status == CaseStatus.PROCESSING
    kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == payment.case_id))
    assert "paid" not in list(kinds)


def test_a_double_submit_records_once_and_a_receipt_serves_one_fee(app, shipped, session):
    first, second = approved_ad(app, session, "wall"), approved_ad(app, session, "screen")
    one, two = due_payment(session, first), due_payment(session, second)
    clerk = window(app)
    pay(clerk, first, one.id, "QS-0001", "200.00")
    again = pay(clerk, first, one.id, "QS-0001", "200.00")
    assert "收据 QS-0001 已经登记过，未重复记录" in again
    other = pay(clerk, first, one.id, "QS-0002", "200.00")
    assert "这笔费用已经缴过（收据号码 QS-0001），不能再次登记缴费" in other
    taken = pay(clerk, second, two.id, "qs-0001", "1000")
    assert f"收据号码 QS-0001 已登记在办件 {first} 的缴费上，不能重复使用" in taken
    session.expire_all()
    assert session.get(Payment, two.id).status == PaymentStatus.DUE
    events = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == one.case_id))
    assert list(events).count("paid") == 1


def refund(client, number: str, payment_id: int, amount: str, reason: str, voucher: str) -> str:
    html = case_page(client, number)
    form = {
        "csrf_token": CSRF.search(html).group(1),
        "amount": amount,
        "reason": reason,
        "voucher_no": voucher,
    }
    response = client.post(f"/cases/{number}/payments/{payment_id}/refund", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_refunds_are_recorded_and_never_exceed_what_was_paid(app, shipped, session):
    number = approved_ad(app, session, "rooftop")
    payment = due_payment(session, number)
    clerk = window(app)
    early = refund(clerk, number, payment.id, "100", "多收", "TF-0001")
    assert "尚未缴纳或已全部退还，不能退费" in early
    pay(clerk, number, payment.id, "QS-0009", "500")
    assert "超过可退金额 500.00 元" in refund(clerk, number, payment.id, "500.01", "多收", "TF-1")
    assert "请填写退费原因" in refund(clerk, number, payment.id, "100", " ", "TF-0001")
    assert "最长 500 个字" in refund(clerk, number, payment.id, "100", "多" * 501, "TF-0001")
    assert "请填写退费凭证号码" in refund(clerk, number, payment.id, "100", "多收", "")
    page = refund(clerk, number, payment.id, "120.50", "设施面积核减", "TF-0001")
    assert "已登记退费 120.50 元，凭证号码 TF-0001" in page
    session.expire_all()
    paid = session.get(Payment, payment.id)
    assert paid.status == PaymentStatus.PARTLY_REFUNDED and paid.refundable == Decimal("379.50")
    assert "超过可退金额 379.50 元" in refund(clerk, number, paid.id, "400", "撤销设置", "TF-0002")
    refund(clerk, number, paid.id, "379.50", "撤销设置", "TF-0002")
    session.expire_all()
    paid = session.get(Payment, payment.id)
    assert paid.status == PaymentStatus.REFUNDED and paid.paid_amount == Decimal("500.00")
    assert [(r.amount, r.voucher_no, r.refunded_by) for r in paid.refunds] == [
        (Decimal("120.50"), "TF-0001", "center_clerk"),
        (Decimal("379.50"), "TF-0002", "center_clerk"),
    ]
    page = case_page(clerk, number)
    assert "已退费" in page and page.count("data-refund") == 2
    assert 'name="voucher_no"' not in page  # nothing left to refund


def test_only_the_window_of_the_place_may_pay_or_refund(app, shipped, session):
    from ..county import neighbour_county_user

    neighbour_county_user(session, "bs_clerk", "window_clerk")
    number = approved_ad(app, session, "wall")
    payment = due_payment(session, number)
    data = {"receipt_no": "QS-0001", "amount": "200", "reason": "x", "voucher_no": "TF-0001"}
    for outsider in (signed_in(app, "bs_clerk"), window(app, "zjj_deputy")):
        token = CSRF.search(outsider.get("/account/password").get_data(as_text=True)).group(1)
        for action in ("confirm", "refund"):
            url = f"/cases/{number}/payments/{payment.id}/{action}"
            assert outsider.post(url, data={**data, "csrf_token": token}).status_code == 403
    anonymous = app.test_client()
    for action in ("confirm", "refund"):
        url = f"/cases/{number}/payments/{payment.id}/{action}"
        assert anonymous.post(url, data=data).status_code in (302, 400)
    session.expire_all()
    assert session.get(Payment, payment.id).status == PaymentStatus.DUE
    # the deputy sees the case, but not the window's forms
    page = case_page(window(app, "zjj_deputy"), number)
    assert "应缴 <strong>¥200.00</strong> 元" in page and 'name="receipt_no"' not in page


def test_a_payment_of_another_case_is_not_found(app, shipped, session):
    first, second = approved_ad(app, session, "wall"), approved_ad(app, session, "wall")
    other = due_payment(session, second)
    clerk = window(app)
    html = case_page(clerk, first)
    form = {"csrf_token": CSRF.search(html).group(1), "receipt_no": "QS-0001", "amount": "200"}
    assert clerk.post(f"/cases/{first}/payments/{other.id}/confirm", data=form).status_code == 404


def test_the_payment_notice_prints_and_renders_as_pdf(app, shipped, session):
    number = approved_ad(app, session, "screen")
    payment = due_payment(session, number)
    clerk = window(app)
    page = clerk.get(f"/cases/{number}/documents/{payment.notice.id}").get_data(as_text=True)
    table = re.search(r'<table id="fee">(.*?)</table>', page, re.S).group(1)
    for words in (
        "户外广告设施设置审批",
        "周建华",
        "¥1000.00",
        "壹仟元整",
        "县政务服务中心二楼 住建窗口（12号）",
        "收据",
    ):
        assert words in table, words
    assert "缴费通知书" in page and "青山县住房和城乡建设局" in page
    pdf = clerk.get(f"/cases/{number}/documents/{payment.notice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    text = re.sub(r"\s+", "", text)
    assert "缴费通知书" in text and "壹仟元整" in text and number in text
