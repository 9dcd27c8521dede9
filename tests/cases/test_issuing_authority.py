"""The case's documents in the name of the item's 实施机关, the permit's content, and no
受理通知书 for a 即办件."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.items import Item

from ..conftest import CSRF, DEMO_PASSWORD, signed_in
from .test_window_pages import (
    AD,
    act,
    case_of,
    do,
    first_review,
    intake,
    pay_fee,
    received,
    window,
)

MINERAL = {
    "f_company_name": "青山县白沙石料厂",
    "f_product_type": "building_stone",
    "f_plant_address": "东河社区北岭",
}


def printed(client, number: str, document) -> str:
    response = client.get(f"/cases/{number}/documents/{document.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def heading_and_signature(page: str) -> tuple[str, str]:
    head = re.search(r'<div class="authority">(.*?)</div>', page).group(1)
    sign = re.search(r'<div class="name">(.*?)</div>', page).group(1)
    return head, sign


def test_the_catalog_names_each_items_authority(app, shipped, session):
    items = {i.code: i for i in session.scalars(select(Item))}
    assert items["ZRZY-KCPJG-HF"].authority == "平安市自然资源和规划局"  # the city decides
    assert items["ZJJ-HWGG-SZSP"].issuing_authority == "青山县住房和城乡建设局"
    assert all(item.authority for item in items.values())


def test_documents_are_issued_in_the_name_of_the_items_authority(app, shipped, session):
    clerk = window(app, "v0101_clerk")
    number = received(intake(clerk, session, "ZRZY-KCPJG-HF", "accept", extra=MINERAL))
    case = case_of(session, number)
    assert [d.kind for d in case.documents] == ["receipt", "acceptance"]
    for document in case.documents:
        assert document.facts["authority"] == "平安市自然资源和规划局"
        page = printed(clerk, number, document)
        assert heading_and_signature(page) == ("平安市自然资源和规划局",) * 2
        assert "一门政务服务中心" not in page


def test_a_designer_sets_the_authority_on_the_item_page(app, shipped, session):
    designer = signed_in(app, "bigdata_designer", DEMO_PASSWORD)
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    edit = designer.get(f"/items/{food.id}/edit").get_data(as_text=True)
    assert 'name="authority"' in edit and "青山县市场监督管理局" in edit
    form = {
        "csrf_token": CSRF.search(edit).group(1),
        "code": food.code,
        "name": food.name,
        "kind": food.kind,
        "lead_department_id": str(food.lead_department_id),
        "authority": " 青山县市场监督管理局（食品安全） ",
        "process_id": food.process_id,
        "statutory_days": "15",
        "committed_days": "7",
        "online": "y",
    }
    assert designer.post(f"/items/{food.id}/edit", data=form).status_code == 302
    session.expire_all()
    assert session.get(Item, food.id).authority == "青山县市场监督管理局（食品安全）"
    detail = designer.get(f"/items/{food.id}").get_data(as_text=True)
    assert "青山县市场监督管理局（食品安全）" in detail
    cleared = designer.post(f"/items/{food.id}/edit", data={**form, "authority": " "})
    assert cleared.status_code == 302
    session.expire_all()
    item = session.get(Item, food.id)
    assert item.authority is None and item.issuing_authority == item.lead_department.name


def test_the_permit_says_what_is_permitted(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    first_review(app, session, number, "approve")
    for username in ("scj_reviewer", "ly_reviewer", "zrzy_reviewer"):
        do(app, session, username, number, "Task_Cosign", {"decision": "agree", "opinion": "同意"})
    sign = {"decision": "approve", "opinion": "同意设置", "certificate_no": "QS-HWGG-2026-001"}
    do(app, session, "zjj_deputy", number, "Task_Sign", sign)
    pay_fee(clerk, session, number)

    decision = case_of(session, number).documents[-1]
    assert decision.kind == "decision" and decision.facts["result"] == "approve"
    permit = {row["label"]: row["value"] for row in decision.facts["permit"]}
    assert permit == {
        "设施类型": "墙面广告",
        "设置地点": "城关街道解放路 12 号",
        "设施宽度（米）": "8",
        "设施高度（米）": "2.5",
        "广告内容": "青山县老周豆腐坊",
    }
    assert decision.facts["valid_until"] == "2029-11-30"
    assert decision.facts["authority"] == "青山县住房和城乡建设局"
    page = printed(clerk, number, decision)
    table = re.search(r'<table id="permit">(.*?)</table>', page, re.S).group(1)
    for words in (
        "户外广告设施设置审批",
        "周建华",
        "城关街道解放路 12 号",
        "墙面广告",
        "QS-HWGG-2026-001",
        "2029年11月30日",
        "青山县住房和城乡建设局",
    ):
        assert words in table, words
    assert heading_and_signature(page) == ("青山县住房和城乡建设局",) * 2

    verify = app.test_client()
    form = verify.get("/verify/").get_data(as_text=True)
    found = verify.post(
        "/verify/",
        data={"csrf_token": CSRF.search(form).group(1), "code": decision.verification_code},
    ).get_data(as_text=True)
    assert "青山县住房和城乡建设局" in found and "2029年11月30日" in found


def test_an_instant_item_gets_no_acceptance_notice(app, shipped, session):
    clerk = window(app)
    instant = session.scalars(select(Item.id).where(Item.code == "SCJ-GTGSH-BGDJ")).one()
    desk = clerk.get(f"/cases/intake?item={instant}").get_data(as_text=True)
    assert "受理并当场办理（即办件，不出具受理通知书）" in desk
    response = intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",))
    number = received(response)
    assert "不出具受理通知书" in clerk.get("/cases/").get_data(as_text=True)
    assert [d.kind for d in case_of(session, number).documents] == ["receipt"]
    decide = {
        "change_type": "premises",
        "change_detail": "城关街道 3 组 → 解放路 12 号",
        "decision": "approve",
        "opinion": "材料齐全，准予变更。",
        "registration_no": "92490102MA0000001X",
    }
    do(app, session, "center_clerk", number, "Task_Decide", decide)
    decision = case_of(session, number).documents[-1]
    assert [d.kind for d in case_of(session, number).documents] == ["receipt", "decision"]
    permit = {row["label"]: row["value"] for row in decision.facts["permit"]}
    assert permit == {
        "变更事项": "经营场所",
        "变更内容（变更前 → 变更后）": "城关街道 3 组 → 解放路 12 号",
    }
    assert decision.facts["certificate_no"] == "92490102MA0000001X"
    assert (
        "受理通知书"
        not in act(clerk, number, "deliver", {"receiver": "周建华"})
        .split('id="case-documents"')[-1]
        .split("</ul>")[0]
    )
