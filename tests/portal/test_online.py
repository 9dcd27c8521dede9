"""网上申报 and 我的办件: an applicant applies from home, the window pre-reviews online
applications, asks for 补正 online, and the applicant follows the case to its papers."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.cases import services
from app.extensions import db
from app.models.applicants import Applicant, OnlineApplication
from app.models.cases import Case, CaseEvent
from app.models.items import Item

from ..cases.test_window_pages import FOOD, VILLAGE, act, case_of, item_id, region_id, window
from ..conftest import CSRF
from .test_accounts import OTHER_PERSON_ID, PERSON_ID, register, token

FOOD_CODE = "SCJ-SPXZF-DJ"
SCAN = b"%PDF-1.7\n" + "扫描件".encode() + b"\n%%EOF\n"


@pytest.fixture
def person(shipped, app, client):
    response = register(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return client


def start(client, code: str = FOOD_CODE) -> int:
    response = client.post(
        f"/portal/guides/{code}/apply", data={"csrf_token": token(client, f"/portal/guides/{code}")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return int(re.search(r"/portal/applications/(\d+)$", response.headers["Location"]).group(1))


def page_form(client, draft: int) -> tuple[str, dict]:
    html = client.get(f"/portal/applications/{draft}").get_data(as_text=True)
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    return html, {"csrf_token": CSRF.search(html).group(1), "revision": revision}


def materials(session, code: str = FOOD_CODE):
    session.expire_all()
    return session.get(Item, item_id(session, code)).materials


def send(client, draft: int, action: str, *, files=(), data=None, form=None):
    """Post the application page: ``files`` are item material ids to upload a scan for."""
    if form is None:
        _html, form = page_form(client, draft)
    body = {**form, "action": action, **(data or {})}
    for material_id in files:
        body[f"material-{material_id}"] = (io.BytesIO(SCAN), f"材料{material_id}.pdf")
    return client.post(
        f"/portal/applications/{draft}", data=body, content_type="multipart/form-data"
    )


def submit_food(client, session) -> str:
    draft = start(client)
    place = region_id(session, VILLAGE)
    ids = [m.id for m in materials(session)]
    response = send(client, draft, "submit", files=ids, data={"place": place, **FOOD})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return re.search(r"/portal/cases/(\d{19})$", response.headers["Location"]).group(1)


def test_an_applicant_saves_a_draft_comes_back_and_submits(person, session):
    draft = start(person)
    assert start(person) == draft  # the same open draft, not a second one
    html, _form = page_form(person, draft)
    assert "食品小作坊登记" in html and "办理地点" in html and "f_workshop_name" in html
    required = [m for m in materials(session) if m.required]
    first = required[0]
    response = send(
        person,
        draft,
        "save",
        files=[first.id],
        data={"place": region_id(session, VILLAGE), "f_workshop_name": "老周豆腐坊"},
    )
    assert response.status_code == 302
    html = person.get(f"/portal/applications/{draft}").get_data(as_text=True)
    assert "老周豆腐坊" in html and f"材料{first.id}.pdf" in html
    assert "暂存的申请" in person.get("/portal/cases").get_data(as_text=True)

    # submitting too early names everything still missing at once and loses nothing
    typed = {"place": region_id(session, VILLAGE), "f_workshop_name": "老周豆腐坊"}
    refused = send(person, draft, "submit", data=typed)  # the page posts what it shows
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert text.count("请上传此项必要材料") == len(required) - 1
    assert "老周豆腐坊" in text and f"材料{first.id}.pdf" in text
    assert session.scalars(select(Case)).all() == []

    rest = [m.id for m in required[1:]]
    response = send(person, draft, "submit", files=rest, data={**typed, **FOOD})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    number = re.search(r"/portal/cases/(\d{19})$", response.headers["Location"]).group(1)
    case = case_of(session, number)
    applicant = session.scalars(select(Applicant)).one()
    assert (case.channel, case.status, case.applicant_account_id) == (
        "online",
        "applied",
        applicant.id,
    )
    assert (case.applicant_name, case.applicant_id_number) == ("张三", PERSON_ID)
    assert case.data["workshop_name"] == "老周豆腐坊"
    sent = {m.name for m in case.materials if m.received and m.blob_sha256}
    assert sent == {m.name for m in required}
    assert [d.kind for d in case.documents] == ["receipt"]
    assert session.get(OnlineApplication, draft).case_id == case.id
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert number in mine and "等待窗口预审" in mine and "暂存的申请" not in mine
    # the submitted draft now leads to its case and cannot be changed or deleted
    assert person.get(f"/portal/applications/{draft}").headers["Location"].endswith(number)


def test_a_stale_page_or_a_double_submit_makes_one_case(person, session):
    draft = start(person)
    _html, stale = page_form(person, draft)
    assert send(person, draft, "save", data={"f_workshop_name": "甲"}).status_code == 302
    response = send(person, draft, "save", data={"f_workshop_name": "乙"}, form=stale)
    assert response.status_code == 409
    assert "其他页面保存过" in response.get_data(as_text=True)
    assert session.get(OnlineApplication, draft).data["workshop_name"] == "甲"

    ids = [m.id for m in materials(session)]
    _html, form = page_form(person, draft)
    data = {"place": region_id(session, VILLAGE), **FOOD}
    first = send(person, draft, "submit", files=ids, data=data, form=form)
    again = send(person, draft, "submit", files=ids, data=data, form=form)
    assert first.status_code == 302 and again.status_code == 302
    assert len(session.scalars(select(Case)).all()) == 1


def test_bad_uploads_and_answers_are_named_and_nothing_is_lost(person, session):
    draft = start(person)
    _html, form = page_form(person, draft)
    first = materials(session)[0].id
    body = {
        **form,
        "action": "save",
        "f_workshop_name": "老周豆腐坊",
        "f_food_category": "not-a-category",
        f"material-{first}": (io.BytesIO(b"MZ\x90\x00 not a document"), "virus.exe"),
    }
    response = person.post(
        f"/portal/applications/{draft}", data=body, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "老周豆腐坊" in text  # what was typed is shown again
    session.expire_all()
    assert session.get(OnlineApplication, draft).materials == {}


def test_items_not_offered_online_cannot_be_applied_for(person, session):
    mineral = session.get(Item, item_id(session, "ZRZY-KCPJG-HF"))
    assert not mineral.online
    response = person.post(
        f"/portal/guides/{mineral.code}/apply",
        data={"csrf_token": token(person, f"/portal/guides/{mineral.code}")},
    )
    assert response.status_code == 302 and "/portal/guides/" in response.headers["Location"]
    assert session.scalars(select(OnlineApplication)).all() == []


def test_the_window_pre_reviews_asks_for_correction_and_accepts(person, app, session):
    number = submit_food(person, session)
    clerk = window(app)
    desk = clerk.get("/cases/intake").get_data(as_text=True)
    assert "网上预审" in desk and f'data-case="{number}"' in desk
    page = clerk.get(f"/cases/{number}").get_data(as_text=True)
    assert "网上申请" in page

    # the window finds one scan unreadable: 补正, named in the 一次性告知
    licence = next(m for m in case_of(session, number).materials if m.name == "营业执照")
    act(clerk, number, "correct", {"note": "营业执照扫描件不清晰", "rejected": [licence.id]})
    case = case_of(session, number)
    assert case.status == "correcting"
    assert f'data-case="{number}"' not in clerk.get("/cases/intake").get_data(as_text=True)
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert "窗口要求补正" in mine
    html = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert "营业执照" in html and "不符合要求" in html and "营业执照扫描件不清晰" in html

    # resubmitting without the material is refused; with it, back to the window
    csrf = CSRF.search(html).group(1)
    refused = person.post(f"/portal/cases/{number}/correction", data={"csrf_token": csrf})
    assert refused.status_code == 422 and case_of(session, number).status == "correcting"
    response = person.post(
        f"/portal/cases/{number}/correction",
        data={"csrf_token": csrf, f"material-{licence.id}": (io.BytesIO(SCAN + b" "), "清晰.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    case = case_of(session, number)
    assert case.status == "applied"
    assert next(m for m in case.materials if m.id == licence.id).filename == "清晰.pdf"
    assert [d.kind for d in case.documents] == ["receipt", "correction", "correction_receipt"]

    act(clerk, number, "accept")
    case = case_of(session, number)
    assert case.status == "accepted" and case.promised_date is not None
    html = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert "已受理" in html and str(case.promised_date) in html and "受理通知书" in html
    acceptance = next(d for d in case.documents if d.kind == "acceptance")
    pdf = person.get(f"/portal/cases/{number}/documents/{acceptance.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_an_unanswered_online_application_is_deemed_accepted(person, app, session):
    number = submit_food(person, session)
    case = case_of(session, number)
    after = case.decision_due + timedelta(days=1)
    with time_machine.travel(after.isoformat() + " 01:00 +0800", tick=False), app.app_context():
        services.apply_deemed_acceptance(db.session, after)
        db.session.commit()
    case = case_of(session, number)
    assert case.status == "accepted" and case.accepted_on_day_received


def test_the_window_refuses_with_a_reason_the_applicant_reads(person, app, session):
    number = submit_food(person, session)
    act(window(app), number, "refuse", {"reason": "不属于本中心管辖"})
    html = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert "不予受理" in html and "不属于本中心管辖" in html


def test_another_applicant_and_anonymous_see_nothing_of_it(person, app, session):
    number = submit_food(person, session)
    case = case_of(session, number)
    draft = start(person)
    material = case.materials[0]
    document = case.documents[0]
    own = [
        f"/portal/cases/{number}",
        f"/portal/cases/{number}/materials/{material.id}",
        f"/portal/cases/{number}/documents/{document.id}.pdf",
        f"/portal/applications/{draft}",
    ]
    for url in own[:2]:
        assert person.get(url).status_code == 200, url

    other = app.test_client()
    assert register(other, name="李四", id_number=OTHER_PERSON_ID).status_code == 302
    for url in own:
        assert other.get(url).status_code == 404, url
    assert number not in other.get("/portal/cases").get_data(as_text=True)
    csrf = token(other, "/portal/cases")
    assert (
        other.post(f"/portal/cases/{number}/correction", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert (
        other.post(f"/portal/applications/{draft}/delete", data={"csrf_token": csrf}).status_code
        == 404
    )

    anonymous = app.test_client()
    for url in [*own, "/portal/cases"]:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/portal/login" in response.headers["Location"], url
    # a staff login is not an applicant login
    assert window(app).get(f"/portal/cases/{number}").status_code == 302


def test_a_window_case_is_added_with_its_number_and_password(person, app, session):
    from ..cases.test_window_pages import intake, received

    clerk = window(app)
    someone_else = {**FOOD, "applicant_id_number": OTHER_PERSON_ID}
    response = intake(clerk, session, FOOD_CODE, "receive", extra=someone_else)
    number = received(response)
    flash = clerk.get(response.headers["Location"]).get_data(as_text=True)
    case = case_of(session, number)
    assert case.channel == "window"
    # received for another person's ID number: not this applicant's
    password = re.search(r"查询密码 (\d{6})", flash).group(1)
    assert number not in person.get("/portal/cases").get_data(as_text=True)
    csrf = token(person, "/portal/cases")
    wrong = person.post(
        "/portal/cases/link", data={"csrf_token": csrf, "number": number, "password": "000000"}
    )
    assert wrong.status_code == 302
    assert "不正确" in person.get("/portal/cases").get_data(as_text=True)
    assert session.scalars(select(Applicant)).one().verified_at is None
    response = person.post(
        "/portal/cases/link", data={"csrf_token": csrf, "number": number, "password": password}
    )
    assert response.status_code == 302
    shown = person.get("/portal/cases").get_data(as_text=True)
    assert "不一致" in shown, re.findall(r"alert-danger[^<]*<", shown)
    assert case_of(session, number).applicant_account_id is None


def test_a_verified_account_sees_its_window_cases(shipped, app, session):
    from ..cases.test_window_pages import ID_NUMBER, intake, received

    client = app.test_client()
    assert register(client, name="周建华", id_number=ID_NUMBER).status_code == 302
    clerk = window(app)
    response = intake(clerk, session, FOOD_CODE, "receive", extra=FOOD)
    number = received(response)
    password = re.search(
        r"查询密码 (\d{6})", clerk.get(response.headers["Location"]).get_data(as_text=True)
    ).group(1)
    csrf = token(client, "/portal/cases")
    response = client.post(
        "/portal/cases/link", data={"csrf_token": csrf, "number": number, "password": password}
    )
    assert response.headers["Location"].endswith(f"/portal/cases/{number}")
    applicant = session.scalars(select(Applicant)).one()
    session.refresh(applicant)
    assert applicant.verified_at is not None
    # a later window case for the same ID number shows without linking
    later = received(intake(clerk, session, FOOD_CODE, "receive", extra=FOOD))
    assert later in client.get("/portal/cases").get_data(as_text=True)


def test_a_clerk_verifies_an_account_at_the_window(person, app, session):
    clerk = window(app)
    html = clerk.get("/applicants/reset").get_data(as_text=True)
    csrf = CSRF.search(html).group(1)
    page = clerk.post("/applicants/reset", data={"csrf_token": csrf, "id_number": PERSON_ID})
    assert "完成实名核验" in page.get_data(as_text=True)
    done = clerk.post(
        "/applicants/reset", data={"csrf_token": csrf, "id_number": PERSON_ID, "confirm": "verify"}
    )
    assert "已核验" in done.get_data(as_text=True)
    applicant = session.scalars(select(Applicant)).one()
    session.refresh(applicant)
    assert applicant.verified_by == "center_clerk"
    assert "已核验" in person.get("/portal/me").get_data(as_text=True)


def test_a_village_window_records_its_cases_as_village_proxy(shipped, app, session):
    from ..cases.test_window_pages import intake, received

    clerk = window(app, "v0101_clerk")
    number = received(intake(clerk, session, FOOD_CODE, "receive", extra=FOOD))
    assert case_of(session, number).channel == "proxy"
    assert "村代办" in clerk.get(f"/cases/{number}").get_data(as_text=True)


def test_online_events_name_the_portal(person, session):
    number = submit_food(person, session)
    case = case_of(session, number)
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).first()
    assert event.message.startswith("网上申报") and event.actor is None


def test_the_applicant_is_told_of_a_fee_and_downloads_the_decision_once_paid(person, app, session):
    from ..cases.test_payments import approved_ad, pay
    from ..cases.test_window_pages import deliver

    number = approved_ad(app, session, "column")  # received for 张三's ID number
    case = case_of(session, number)
    case.applicant_account_id = session.scalars(select(Applicant.id)).one()
    session.commit()
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert "待缴费 800.00 元" in mine
    html = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert "应缴金额" in html and "800.00 元" in html and "缴费通知书（PDF）" in html
    payment = re.search(r'data-payment="(\d+)"', html).group(1)

    clerk = window(app)
    pay(clerk, number, int(payment), "QS-2026-000777", "800")
    assert "待缴费" not in person.get("/portal/cases").get_data(as_text=True)
    deliver(clerk, session, number)
    html = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert "已送达" in html and "QS-2026-000777" in html
    decision = next(d for d in case_of(session, number).documents if d.kind == "decision")
    pdf = person.get(f"/portal/cases/{number}/documents/{decision.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_verified_applicant_reuses_accepted_materials_instead_of_uploading(person, app, session):
    from app.models.library import LibraryUse
    from app.portal import accounts

    first = submit_food(person, session)
    act(window(app), first, "accept")
    draft = start(person)
    html, _form = page_form(person, draft)
    assert "data-offer" not in html  # not verified yet: the library stays closed

    accounts.verify(session.scalars(select(Applicant)).one(), "center_clerk")
    session.commit()
    html, form = page_form(person, draft)
    offers = dict(re.findall(r'name="reuse-(\d+)" value="(\d+)"', html))
    required = [m for m in materials(session) if m.required]
    assert {int(k) for k in offers} >= {m.id for m in required}

    # an entry offered for another material is refused and nothing is kept
    one, other = required[0].id, required[1].id
    wrong = send(person, draft, "save", data={f"reuse-{one}": offers[str(other)]}, form=form)
    assert wrong.status_code == 422
    session.expire_all()
    assert session.get(OnlineApplication, draft).materials == {}

    reuse = {f"reuse-{m.id}": offers[str(m.id)] for m in required}
    data = {"place": region_id(session, VILLAGE), **FOOD, **reuse}
    response = send(person, draft, "submit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    number = re.search(r"/portal/cases/(\d{19})$", response.headers["Location"]).group(1)
    case = case_of(session, number)
    earlier = {m.name: m.blob_sha256 for m in case_of(session, first).materials}
    for material in case.materials:
        if material.required:
            assert material.received and material.blob_sha256 == earlier[material.name]
    uses = session.scalars(select(LibraryUse).where(LibraryUse.case_id == case.id)).all()
    assert len(uses) == len(required)
    assert "复用共享材料" in person.get(f"/portal/cases/{number}").get_data(as_text=True)
