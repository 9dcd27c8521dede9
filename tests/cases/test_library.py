"""资料共享库 at the window: what is kept on 受理 and on approval, what a new case is
offered (by name and by 前置审批), and 复用 on the case page."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import time_machine
from sqlalchemy import select

from app.cases import library
from app.models.cases import CaseEvent
from app.models.items import Item
from app.models.library import LibraryEntry, LibraryUse

from ..conftest import BEIJING, CSRF
from ..county import neighbour_county_user
from .test_window_pages import (
    FOOD,
    ID_NUMBER,
    act,
    case_of,
    case_page,
    do,
    intake,
    item_id,
    received,
    window,
)

CHANGE = "SCJ-GTGSH-BGDJ"  # 个体工商户变更登记: an instant item, its result is the 营业执照
WORKSHOP = "SCJ-SPXZF-DJ"  # 食品小作坊登记: its 营业执照 is satisfied by that result
OTHER_ID = "440524188001010014"
PDF = b"%PDF-1.4 identity card scan"
DECIDE = {
    "change_type": "premises",
    "change_detail": "城关街道 3 组 → 解放路 12 号",
    "opinion": "材料齐全，准予变更。",
}


def upload(client, number: str, material_id: int, content: bytes = PDF, name="scan.pdf"):
    token = CSRF.search(case_page(client, number)).group(1)
    response = client.post(
        f"/cases/{number}/materials/{material_id}/upload",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def material(session, number: str, name: str):
    return next(m for m in case_of(session, number).materials if m.name == name)


def entries(session, **where) -> list[LibraryEntry]:
    session.expire_all()
    stmt = select(LibraryEntry).order_by(LibraryEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(LibraryEntry, key) == value)
    return list(session.scalars(stmt))


def accepted_with_file(clerk, session, code: str, name: str, *, content=PDF, extra=None, **kw):
    """Receive ``code`` with every material, scan ``name`` in, then accept it."""
    number = received(intake(clerk, session, code, "receive", extra=extra, **kw))
    upload(clerk, number, material(session, number, name).id, content)
    act(clerk, number, "accept")
    return number


def business_change(app, clerk, session, decision="approve", *, id_number=ID_NUMBER) -> str:
    """个体工商户变更登记 with the ID card scanned, decided on the spot."""
    extra = {"applicant_id_number": id_number}
    number = accepted_with_file(
        clerk, session, CHANGE, "经营者身份证件", extra=extra, skip=("委托书",)
    )
    data = {**DECIDE, "decision": decision}
    if decision == "approve":
        data["registration_no"] = "92490102MA0000001X"
    do(app, session, "center_clerk", number, "Task_Decide", data)
    assert case_of(session, number).result == decision
    return number


def workshop_missing(clerk, session, *skip, id_number=ID_NUMBER) -> str:
    """食品小作坊登记 received without the materials named in ``skip``."""
    extra = {**FOOD, "applicant_id_number": id_number}
    return received(intake(clerk, session, WORKSHOP, "receive", skip=skip, extra=extra))


# --- keeping ---------------------------------------------------------------------------


def test_accepted_materials_with_a_file_are_kept_for_the_applicant(app, shipped, session):
    clerk = window(app)
    number = accepted_with_file(clerk, session, WORKSHOP, "经营者身份证件", extra=FOOD)
    kept = entries(session)
    assert [(e.kind, e.name, e.holder_type, e.holder_id_number) for e in kept] == [
        ("material", "经营者身份证件", "person", ID_NUMBER)
    ]
    case = case_of(session, number)
    assert kept[0].blob_sha256 == material(session, number, "经营者身份证件").blob_sha256
    assert (kept[0].source_case_id, kept[0].item_code) == (case.id, WORKSHOP)
    assert kept[0].valid_until is None and kept[0].consented


def test_materials_are_not_kept_before_acceptance(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, WORKSHOP, "receive", extra=FOOD))
    upload(clerk, number, material(session, number, "经营者身份证件").id)
    assert entries(session) == []


def test_the_same_file_accepted_twice_is_kept_once(app, shipped, session):
    clerk = window(app)
    accepted_with_file(clerk, session, WORKSHOP, "经营者身份证件", extra=FOOD)
    accepted_with_file(clerk, session, WORKSHOP, "经营者身份证件", extra=FOOD)
    assert len(entries(session, name="经营者身份证件")) == 1
    accepted_with_file(clerk, session, WORKSHOP, "经营者身份证件", content=PDF + b" v2", extra=FOOD)
    assert len(entries(session, name="经营者身份证件")) == 2


def test_an_approval_keeps_its_result_and_a_rejection_keeps_none(app, shipped, session):
    clerk = window(app)
    approved = business_change(app, clerk, session)
    results = entries(session, kind="result")
    decision = next(d for d in case_of(session, approved).documents if d.kind == "decision")
    assert [(r.name, r.document_id, r.item_code) for r in results] == [
        ("营业执照", decision.id, CHANGE)
    ]
    assert results[0].valid_until is None  # the facts name no validity: no expiry

    business_change(app, clerk, session, "reject")
    assert len(entries(session, kind="result")) == 1


def test_a_result_is_valid_until_the_decision_says(app, shipped, session):
    clerk = window(app)
    number = business_change(app, clerk, session)
    decision = next(d for d in case_of(session, number).documents if d.kind == "decision")
    assert library.result_name(case_of(session, number).item, decision) == "营业执照"
    session.delete(entries(session, kind="result")[0])
    decision.facts = {**decision.facts, "valid_until": "2031-06-30"}
    session.flush()
    with app.app_context():  # the services read the center's clock from the config
        entry = library.capture_result(session, case_of(session, number), decision)
    assert entry.valid_until.isoformat() == "2031-06-30"
    session.rollback()


# --- offering --------------------------------------------------------------------------


def test_a_new_case_is_offered_a_material_by_name_and_a_result_by_prerequisite(
    app, shipped, session
):
    clerk = window(app)
    business_change(app, clerk, session)  # kept: 经营者身份证件 (file) and 营业执照 (result)
    number = workshop_missing(clerk, session, "经营者身份证件", "营业执照")
    case = case_of(session, number)
    with app.app_context():
        offers = library.offers_for_case(session, case)
    by_name = {material(session, number, n).id: n for n in ("经营者身份证件", "营业执照")}
    assert {by_name[k]: [(e.kind, e.name) for e in v] for k, v in offers.items()} == {
        "经营者身份证件": [("material", "经营者身份证件")],
        "营业执照": [("result", "营业执照")],
    }
    # before a case exists (the portal's online application): keyed by the item's materials
    item = session.get(Item, item_id(session, WORKSHOP))
    with app.app_context():
        draft = library.offers_for(session, "person", ID_NUMBER.lower(), item)
        assert library.offers_for(session, "company", ID_NUMBER, item) == {}
        assert library.offers_for(session, "person", OTHER_ID, item) == {}
    names = {m.id: m.name for m in item.materials}
    assert sorted(names[k] for k in draft) == ["经营者身份证件", "营业执照"]


def test_a_result_is_not_offered_for_a_material_without_prerequisite(app, shipped, session):
    clerk = window(app)
    business_change(app, clerk, session)
    item = session.get(Item, item_id(session, "ZRZY-KCPJG-HF"))  # its 营业执照 names no item
    with app.app_context():
        offered = library.offers_for(session, "person", ID_NUMBER, item)
    assert all(e.kind == "material" for found in offered.values() for e in found)


def test_expired_and_withdrawn_entries_are_not_offered(app, shipped, session):
    clerk = window(app)
    business_change(app, clerk, session)
    number = workshop_missing(clerk, session, "经营者身份证件", "营业执照")
    result = entries(session, kind="result")[0]
    kept = entries(session, kind="material")[0]
    result.valid_until = datetime(2026, 12, 31).date()
    session.commit()
    licence = material(session, number, "营业执照")
    context = app.app_context()
    context.push()
    on_last_day = datetime.combine(result.valid_until, time(16), tzinfo=BEIJING)
    with time_machine.travel(on_last_day):
        assert licence.id in library.offers_for_case(session, case_of(session, number))
    with time_machine.travel(on_last_day + timedelta(hours=9)):  # the next local day
        offers = library.offers_for_case(session, case_of(session, number))
        assert licence.id not in offers
        refused = _refusal(session, number, "营业执照", result)
        assert "已于 2026-12-31 到期" in refused

    library.set_consent(session, kept, False)
    session.commit()
    card = material(session, number, "经营者身份证件")
    assert card.id not in library.offers_for_case(session, case_of(session, number))
    assert "撤回" in _refusal(session, number, "经营者身份证件", kept)
    context.pop()


def _refusal(session, number: str, name: str, entry) -> str:
    try:
        library.reuse(
            session, case_of(session, number), material(session, number, name), entry, "x"
        )
    except library.LibraryRefused as refused:
        session.rollback()
        return refused.message
    raise AssertionError("reuse was not refused")


# --- 复用 on the case page -------------------------------------------------------------


def test_the_window_reuses_entries_and_then_accepts(app, shipped, session):
    clerk = window(app)
    earlier = business_change(app, clerk, session)
    number = workshop_missing(clerk, session, "经营者身份证件", "营业执照")
    html = case_page(clerk, number)
    assert 'id="case-library"' in html and "复用" in html and earlier in html
    for name, kind in (("经营者身份证件", "material"), ("营业执照", "result")):
        entry = entries(session, kind=kind)[0]
        target = material(session, number, name)
        html = act(clerk, number, f"materials/{target.id}/reuse", {"entry": str(entry.id)})
        assert "已复用资料共享库中的材料" in html
        target = material(session, number, name)
        assert target.received
        if kind == "material":
            assert (target.blob_sha256, target.filename) == (entry.blob_sha256, entry.filename)
    code = entries(session, kind="result")[0].document.verification_code
    assert html.count("data-library-use") == 2 and code in html
    assert 'id="case-library"' not in html  # nothing left to offer
    case = case_of(session, number)
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "library_reused")
    ).all()
    assert len(events) == 2 and all(earlier in e.message for e in events)
    assert "复用共享材料" in html  # in the case's history
    uses = session.scalars(select(LibraryUse).where(LibraryUse.case_id == case.id)).all()
    assert len(uses) == 2
    assert "已受理" in act(clerk, number, "accept")
    assert case_of(session, number).status == "accepted"


def test_another_persons_entry_is_refused_and_nothing_changes(app, shipped, session):
    clerk = window(app)
    business_change(app, clerk, session)
    number = workshop_missing(clerk, session, "经营者身份证件", id_number=OTHER_ID)
    assert 'id="case-library"' not in case_page(clerk, number)
    target = material(session, number, "经营者身份证件")
    entry = entries(session, kind="material")[0]
    html = act(clerk, number, f"materials/{target.id}/reuse", {"entry": str(entry.id)})
    assert "该共享材料不属于本办件的申请人，不能复用" in html
    assert not material(session, number, "经营者身份证件").received
    assert session.scalars(select(LibraryUse)).all() == []


def test_a_bad_or_missing_entry_is_refused_with_a_message(app, shipped, session):
    clerk = window(app)
    business_change(app, clerk, session)
    number = workshop_missing(clerk, session, "经营者身份证件", "营业执照")
    target = material(session, number, "营业执照")
    card = entries(session, kind="material")[0]  # an ID card is not a 营业执照
    for given, said in (
        ("", "请选择要复用的共享材料"),
        ("99999999999999", "请选择要复用的共享材料"),
        (str(card.id), "不能作为“营业执照”复用"),
    ):
        html = act(clerk, number, f"materials/{target.id}/reuse", {"entry": given})
        assert said in html
    assert not material(session, number, "营业执照").received


def test_staff_of_another_county_cannot_see_or_reuse(app, shipped, session):
    from ..conftest import signed_in

    clerk = window(app)
    business_change(app, clerk, session)
    number = workshop_missing(clerk, session, "经营者身份证件")
    neighbour_county_user(session, "bs_clerk", "window_clerk")
    outsider = signed_in(app, "bs_clerk")
    assert outsider.get(f"/cases/{number}").status_code == 403
    token = CSRF.search(outsider.get("/desk/").get_data(as_text=True)).group(1)
    target = material(session, number, "经营者身份证件")
    entry = entries(session, kind="material")[0]
    response = outsider.post(
        f"/cases/{number}/materials/{target.id}/reuse",
        data={"csrf_token": token, "entry": str(entry.id)},
    )
    assert response.status_code == 403
    assert not material(session, number, "经营者身份证件").received
    # a township window of the same county does not serve the village's case either
    other = window(app, "v0201_clerk")
    token = CSRF.search(other.get("/desk/").get_data(as_text=True)).group(1)
    response = other.post(
        f"/cases/{number}/materials/{target.id}/reuse",
        data={"csrf_token": token, "entry": str(entry.id)},
    )
    assert response.status_code == 403
    anonymous = app.test_client().post(f"/cases/{number}/materials/{target.id}/reuse")
    assert anonymous.status_code in (302, 400)


# --- 前置审批 in the items editor ------------------------------------------------------


def test_the_editor_sets_a_prerequisite_item_and_refuses_an_unknown_one(app, shipped, session):
    from ..items.test_item_pages import designer, post

    client = designer(app)
    item = session.get(Item, item_id(session, "ZRZY-KCPJG-HF"))
    detail = f"/items/{item.id}"
    form = {"name": "个体工商户营业执照", "form": "copy", "copies": "1", "required": "y"}
    for code, said in (("NO-SUCH", "前置审批事项 NO-SUCH 不存在"), ("ZRZY-KCPJG-HF", "本事项")):
        refused = post(client, f"{detail}/materials", detail, {**form, "satisfied_by_item": code})
        assert refused.status_code == 400 and said in refused.get_data(as_text=True)
    session.expire_all()
    assert len(session.get(Item, item.id).materials) == 6
    added = post(client, f"{detail}/materials", detail, {**form, "satisfied_by_item": CHANGE})
    assert added.status_code == 302
    session.expire_all()
    assert session.get(Item, item.id).materials[-1].satisfied_by_item == CHANGE
    assert f"可由事项 {CHANGE} 的办理结果满足" in client.get(detail).get_data(as_text=True)
