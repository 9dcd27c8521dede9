"""一件事 at the window: the 受理台 receives the package with one form and one material
list, the package page follows its cases, a case of it is never delivered alone, and
统一出证 hands out every result once all have ended."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models.cases import Case, CasePackage
from app.models.items import ItemPackage
from app.models.notifications import Notification

from ..conftest import CSRF, DEMO_PASSWORD, signed_in
from .test_window_pages import NONCE, VILLAGE, case_of, region_id, window

ANSWERS = {
    "f_workshop_name": "老周糕点坊",
    "f_workshop_address": "城关街道人民路 12 号",
    "f_food_category": "pastry",
    "f_facility_type": "signboard",
    "f_facility_width": "4.5",
    "f_facility_height": "1.2",
    "f_ad_content": "老周糕点",
    "f_set_until": "2029-12-31",
}


def package_id(session) -> int:
    return session.scalars(select(ItemPackage.id).where(ItemPackage.code == "YJS-KBCYD")).one()


def form_of(clerk, session) -> tuple[str, dict]:
    html = clerk.get(f"/cases/intake/packages/{package_id(session)}").get_data(as_text=True)
    keys = re.findall(r'name="materials" value="(\d+)"', html)
    form = {
        "csrf_token": CSRF.search(html).group(1),
        "nonce": NONCE.search(html).group(1),
        "applicant_type": "person",
        "applicant_name": "周建国",
        "applicant_id_number": "11010519491231002X",
        "applicant_phone": "13800138000",
        "place": region_id(session, VILLAGE),
        "materials": keys,
    }
    return html, form


def receive(clerk, session, **changes) -> str:
    _html, form = form_of(clerk, session)
    response = clerk.post(
        f"/cases/intake/packages/{package_id(session)}", data={**form, **ANSWERS, **changes}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return re.search(r"/cases/packages/(YJS\d+)$", response.headers["Location"]).group(1)


def bundle_of(session, number: str) -> CasePackage:
    session.expire_all()
    return session.scalars(select(CasePackage).where(CasePackage.number == number)).one()


def test_the_window_receives_a_package_with_one_form(app, shipped, session):
    clerk = window(app)
    intake = clerk.get("/cases/intake").get_data(as_text=True)
    assert f"/cases/intake/packages/{package_id(session)}" in intake and "开办餐饮店" in intake
    html, _form = form_of(clerk, session)
    assert html.count('name="f_workshop_address"') == 1 and "用于：" in html
    assert html.count('name="materials"') == 16
    number = receive(clerk, session)
    bundle = bundle_of(session, number)
    assert [c.status for c in bundle.cases] == ["applied"] * 4
    assert {c.received_by for c in bundle.cases} == {"center_clerk"}
    assert bundle.cases[2].data["business_address"] == "城关街道人民路 12 号"
    page = clerk.get(f"/cases/packages/{number}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert all(c.number in text for c in bundle.cases) and "办理中（已办结 0/4 项）" in text
    followed = clerk.get(page.request.path)  # the flash with the password came before
    assert "查询密码" not in followed.get_data(as_text=True)
    case_page = clerk.get(f"/cases/{bundle.cases[0].number}").get_data(as_text=True)
    assert 'id="case-package"' in case_page and f"/cases/packages/{number}" in case_page


def test_a_bad_form_is_named_at_once_keeps_what_was_typed_and_writes_nothing(app, shipped, session):
    clerk = window(app)
    _html, form = form_of(clerk, session)
    bad = {**form, **ANSWERS, "applicant_id_number": "123", "f_facility_width": "-1"}
    response = clerk.post(f"/cases/intake/packages/{package_id(session)}", data=bad)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "老周糕点坊" in text and "周建国" in text
    assert text.count("invalid-feedback") >= 1
    assert session.scalar(select(func.count(Case.id))) == 0


def test_a_double_submit_makes_one_package(app, shipped, session):
    clerk = window(app)
    _html, form = form_of(clerk, session)
    body = {**form, **ANSWERS}
    first = clerk.post(f"/cases/intake/packages/{package_id(session)}", data=body)
    again = clerk.post(f"/cases/intake/packages/{package_id(session)}", data=body)
    assert first.status_code == 302 and again.status_code == 302
    assert session.scalar(select(func.count(CasePackage.id))) == 1
    assert session.scalar(select(func.count(Case.id))) == 4


def test_others_see_nothing_of_the_package(app, shipped, session):
    number = receive(window(app), session)
    for username in ("t05_clerk", "scj_spg_handler"):  # another township's window; not routed yet
        other = signed_in(app, username, DEMO_PASSWORD)
        assert other.get(f"/cases/packages/{number}").status_code == 403, username
        csrf = CSRF.search(other.get("/desk/").get_data(as_text=True)).group(1)
        refused = other.post(f"/cases/packages/{number}/deliver", data={"csrf_token": csrf})
        assert refused.status_code == 403, username
    anonymous = app.test_client()
    response = anonymous.get(f"/cases/packages/{number}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert app.test_client().get("/cases/packages/YJS000").status_code == 302


def _end(session, number, *statuses):
    bundle = bundle_of(session, number)
    for case, status in zip(bundle.cases, statuses, strict=True):
        if status:
            case.status = status
    session.commit()


def test_a_case_of_a_package_is_handed_out_only_with_the_others(app, shipped, session):
    clerk = window(app)
    number = receive(clerk, session)
    first = bundle_of(session, number).cases[0].number
    _end(session, number, "decided", None, None, None)
    page = clerk.get(f"/cases/{first}").get_data(as_text=True)
    assert 'id="package-delivery"' in page and "送达并出具送达回证" not in page
    forged = clerk.post(
        f"/cases/{first}/deliver",
        data={"csrf_token": CSRF.search(page).group(1), "receiver": "周建国"},
    )
    assert forged.status_code == 302
    assert case_of(session, first).status == "decided"  # refused: 统一出证
    deliveries = clerk.get("/desk/deliveries").get_data(as_text=True)
    assert first not in deliveries
    assert 'id="package-deliver"' not in clerk.get(f"/cases/packages/{number}").get_data(
        as_text=True
    )

    _end(session, number, None, "decided", "refused", "decided")
    deliveries = clerk.get("/desk/deliveries").get_data(as_text=True)
    assert all(
        c.number in deliveries for c in bundle_of(session, number).cases if c.status == "decided"
    )
    count = re.search(r'id="delivery-count">(\d+)<', deliveries).group(1)
    assert count == "3"
    page = clerk.get(f"/cases/packages/{number}").get_data(as_text=True)
    assert "全部办结，待统一出证" in page and 'id="package-deliver"' in page
    response = clerk.post(
        f"/cases/packages/{number}/deliver",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "receiver": "周建国",
            "method": "窗口直接送达",
        },
    )
    assert response.status_code == 302
    bundle = bundle_of(session, number)
    assert [c.status for c in bundle.cases] == ["delivered", "delivered", "refused", "delivered"]
    assert bundle.delivered_by == "center_clerk"
    assert all(
        any(d.kind == "delivery" for d in c.documents)
        for c in bundle.cases
        if c.status == "delivered"
    )
    assert "已统一出证" in clerk.get(f"/cases/packages/{number}").get_data(as_text=True)
    assert number not in clerk.get("/desk/deliveries").get_data(as_text=True)


def test_the_window_is_told_once_when_the_last_case_ends(app, shipped, session):
    from app.cases import delivery

    number = receive(window(app), session)
    bundle = bundle_of(session, number)
    bundle.cases[0].status = "decided"
    session.commit()
    assert delivery.result_ready(session, bundle.cases[0]) == []
    for case in bundle.cases[1:]:
        case.status = "decided"
    session.commit()
    told = delivery.result_ready(session, bundle_of(session, number).cases[-1])
    session.commit()
    assert "center_clerk" in told
    notes = session.scalars(
        select(Notification).where(Notification.username == "center_clerk")
    ).all()
    assert [n.link for n in notes if n.kind == "delivery"] == [f"/cases/packages/{number}"]
    assert delivery.result_ready(session, bundle_of(session, number).cases[0]) == []
