"""一件事一次办 on the portal: the package's guide, one combined application for its
items, one case per item under one package number, and the package followed as a whole."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.items.packages import shape_of
from app.models.applicants import OnlineApplication
from app.models.cases import Case, CasePackage
from app.models.items import ItemPackage

from ..cases.test_package_window import ANSWERS
from ..cases.test_window_pages import VILLAGE, region_id, window
from .test_accounts import OTHER_PERSON_ID, register, token
from .test_online import page_form, send

CODE = "YJS-KBCYD"


@pytest.fixture
def person(shipped, app, client):
    assert register(client).status_code == 302
    return client


def shape(app, session):
    """The package's combined form (read through the runtime, in the app's context)."""
    session.expire_all()
    package = session.scalars(select(ItemPackage).where(ItemPackage.code == CODE)).one()
    with app.app_context():
        return shape_of(session, package)


def start_package(client) -> int:
    response = client.post(
        f"/portal/packages/{CODE}/apply",
        data={"csrf_token": token(client, f"/portal/packages/{CODE}")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return int(re.search(r"/portal/applications/(\d+)$", response.headers["Location"]).group(1))


def submit_package(app, client, session) -> str:
    draft = start_package(client)
    keys = [m.key for m in shape(app, session).materials]
    data = {"place": region_id(session, VILLAGE), **ANSWERS}
    response = send(client, draft, "submit", files=keys, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return re.search(r"/portal/my/packages/(YJS\d+)$", response.headers["Location"]).group(1)


def test_anyone_finds_the_package_and_reads_its_one_material_list(shipped, app, client, session):
    home = client.get("/portal/").get_data(as_text=True)
    assert "一件事一次办" in home and "开办餐饮店" in home
    found = client.get("/portal/guides?q=餐饮").get_data(as_text=True)
    assert f"/portal/packages/{CODE}" in found and "guide-none" not in found
    by_topic = client.get("/portal/guides?topic=开办餐饮店").get_data(as_text=True)
    assert f"/portal/packages/{CODE}" in by_topic
    page = client.get(f"/portal/packages/{CODE}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for name in (
        "个体工商户变更登记",
        "食品小作坊登记",
        "公众聚集场所开业联合审查",
        "户外广告设施设置审批",
    ):
        assert name in text
    assert text.count('<li class="mb-2">') == len(shape(app, session).materials)
    assert "共用于：个体工商户变更登记、食品小作坊登记、公众聚集场所开业联合审查" in text
    assert "户外广告设施设置审批 100.00 元" in text and "最长 20 个工作日" in text
    assert f"/portal/packages/{CODE}" in client.get("/portal/guides/SCJ-SPXZF-DJ").get_data(
        as_text=True
    )
    assert client.get("/portal/packages/NO-SUCH").status_code == 404
    # applying needs an applicant's login
    anonymous = client.post(
        f"/portal/packages/{CODE}/apply",
        data={"csrf_token": token(client, f"/portal/packages/{CODE}")},
    )
    assert anonymous.status_code == 302 and "/portal/login" in anonymous.headers["Location"]


def test_one_application_makes_a_case_per_item_with_the_shared_files(person, app, session):
    draft = start_package(person)
    assert start_package(person) == draft
    html, _form = page_form(person, draft)
    asked = shape(app, session)
    assert "在线申报：开办餐饮店" in html
    assert html.count('name="f_workshop_address"') == 1
    assert 'name="f_business_address"' not in html and 'name="f_setting_address"' not in html
    assert html.count('type="file"') == len(asked.materials)

    # too early: every gap named at once, by the combined form's names
    refused = send(person, draft, "submit", data={"f_workshop_name": "老周糕点坊"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    required = [m for m in asked.materials if m.required]
    assert text.count("请上传此项必要材料") == len(required)
    assert "老周糕点坊" in text and session.scalars(select(Case)).all() == []

    keys = [m.key for m in asked.materials]
    data = {"place": region_id(session, VILLAGE), **ANSWERS}
    response = send(person, draft, "submit", files=keys, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    number = re.search(r"/portal/my/packages/(YJS\d+)$", response.headers["Location"]).group(1)
    session.expire_all()
    bundle = session.scalars(select(CasePackage).where(CasePackage.number == number)).one()
    assert session.get(OnlineApplication, draft).package_case_id == bundle.id
    assert [c.item.code for c in bundle.cases] == [i.code for i in asked.items]
    assert {(c.channel, c.status) for c in bundle.cases} == {("online", "applied")}
    assert {c.applicant_account_id for c in bundle.cases} == {bundle.applicant_account_id}
    licence = next(m for m in asked.materials if m.name == "营业执照正、副本")
    files = {
        m.blob_sha256
        for c in bundle.cases
        for m in c.materials
        if m.item_material_id in {x.id for x in licence.members}
    }
    assert len(files) == 1 and None not in files  # one upload, on three cases
    assert all(m.received for c in bundle.cases for m in c.materials if m.required)
    joint = bundle.cases[2]
    assert joint.data["business_address"] == "城关街道人民路 12 号"

    # 我的办件: the package as a whole, and each case pointing back to it
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert f"/portal/my/packages/{number}" in mine and "办理中（已办结 0/4 项）" in mine
    page = person.get(f"/portal/my/packages/{number}").get_data(as_text=True)
    assert all(c.number in page for c in bundle.cases)
    assert "一件事综合窗口" in page and "统一出证" in page and "等待窗口预审" in page
    case_page = person.get(f"/portal/cases/{bundle.cases[0].number}").get_data(as_text=True)
    assert f"/portal/my/packages/{number}" in case_page
    assert person.get(f"/portal/applications/{draft}").headers["Location"].endswith(number)


def test_one_reminder_to_collect_once_the_whole_package_has_ended(person, app, session):
    number = submit_package(app, person, session)
    bundle = session.scalars(select(CasePackage).where(CasePackage.number == number)).one()
    first, *rest = bundle.cases
    first.status = "decided"
    session.commit()
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert "一件事的其他事项办结后" in mine and "统一领取结果" not in mine
    for case in rest:
        case.status = "decided"
    rest[0].status = "refused"
    session.commit()
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert mine.count("统一领取结果") == 1 and "一件事综合窗口" in mine
    assert "全部办结，待统一出证" in mine


def test_the_window_sees_each_case_in_its_pre_review_queue(person, app, session):
    number = submit_package(app, person, session)
    bundle = session.scalars(select(CasePackage).where(CasePackage.number == number)).one()
    queue = window(app).get("/cases/intake").get_data(as_text=True)
    assert all(c.number in queue for c in bundle.cases)


def test_another_applicant_and_anonymous_see_nothing_of_the_package(person, app, session):
    number = submit_package(app, person, session)
    other = app.test_client()
    assert register(other, name="李四", id_number=OTHER_PERSON_ID).status_code == 302
    assert other.get(f"/portal/my/packages/{number}").status_code == 404
    assert number not in other.get("/portal/cases").get_data(as_text=True)
    anonymous = app.test_client()
    response = anonymous.get(f"/portal/my/packages/{number}")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
    assert window(app).get(f"/portal/my/packages/{number}").status_code == 302
