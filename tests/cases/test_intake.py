"""The window: receive, 补正, accept, refuse, withdraw, deliver — and the dates they promise."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import once
from app.cases import documents, services
from app.cases.identity import credit_code_problem, id_card_problem, mask
from app.clock import center_clock
from app.files.store import safe_name
from app.models.cases import Case
from app.models.items import Item, ItemMaterial
from app.models.org import Region
from workflows.calendar import WorkCalendar
from workflows.models import CalendarDay

from ..conftest import BEIJING, CSRF, MOMENTS, api_for, engine_of, signed_in
from ..diagrams import laned, user

PERSON = {
    "type": "person",
    "name": "周建华",
    "id_number": "11010519491231002X",
    "phone": "13900000000",
}
REVIEW = laned(
    "simple_item",
    ("县 市场监督管理局/审批股 审核人", user("review", "审核")),
    ("县 市场监督管理局 分管领导", user("sign", "签批")),
)


@pytest.fixture
def item(api, county, session):
    assert api.deploy(("simple.bpmn", REVIEW)).status_code == 201
    item = Item(
        code="TEST-001",
        name="测试许可",
        kind="promise",
        lead_department_id=county.departments["scj"].id,
        statutory_days=20,
        committed_days=5,
        process_id="simple_item",
        status="published",
    )
    item.materials = [
        ItemMaterial(position=0, name="申请书", form="original", required=True),
        ItemMaterial(position=1, name="营业执照", form="copy", required=True),
        ItemMaterial(position=2, name="授权委托书", form="original", required=False),
    ]
    session.add(item)
    session.commit()
    return item


def post_case(app, username: str, item, county, received=("申请书", "营业执照"), **extra):
    body = {
        "item_code": item.code,
        "applicant": PERSON,
        "place": county.code("v11"),
        "materials": list(received),
        **extra,
    }
    return api_for(app, username).post("/api/v1/cases", body)


def test_calendar_counts_working_days_across_national_day_and_a_make_up_saturday():
    calendar = WorkCalendar()
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休 working day
    assert not calendar.is_workday(date(2026, 10, 5))
    assert calendar.add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert calendar.workdays_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert calendar.next_workday(datetime(2026, 10, 3, 9, 0)) == date(2026, 10, 8)
    assert calendar.add_workdays(date(2026, 9, 19), 1) == date(
        2026, 9, 20
    )  # Sunday, 调休 working day


def test_a_year_the_package_does_not_know_still_counts_with_a_warning():
    calendar = WorkCalendar()
    assert not calendar.known(2027)
    assert calendar.add_workdays(date(2026, 12, 31), 3) == date(2027, 1, 5)  # weekends only
    entered = WorkCalendar({date(2027, 1, 1): False, date(2027, 1, 4): False})
    assert entered.known(2027)
    assert entered.add_workdays(date(2026, 12, 31), 3) == date(2027, 1, 7)


def test_promised_date_uses_the_overrides_the_administrator_entered(app, item, session):
    with app.app_context():
        assert services.promised_date(session, item, datetime(2026, 9, 30, 2, 0)) == date(
            2026, 10, 13
        )
        session.add(CalendarDay(day=date(2026, 10, 12), workday=False, note="临时放假"))
        session.commit()
        assert services.promised_date(session, item, datetime(2026, 9, 30, 2, 0)) == date(
            2026, 10, 14
        )


def test_instant_items_received_on_a_rest_day_are_due_the_next_working_day(app, item, session):
    item.committed_days = 0
    with app.app_context():
        assert services.promised_date(session, item, datetime(2026, 10, 3, 1, 0)) == date(
            2026, 10, 8
        )
        assert services.promised_date(session, item, datetime(2026, 10, 9, 1, 0)) == date(
            2026, 10, 9
        )
        # after hours (18:00 Beijing on Friday 10-09): the next working day, Saturday 10-10 (调休)
        assert services.promised_date(session, item, datetime(2026, 10, 9, 10, 0)) == date(
            2026, 10, 10
        )
        # 01:00 Beijing on Monday 11-23 is still Sunday in UTC: the local day counts
        assert services.promised_date(session, item, datetime(2026, 11, 22, 17, 0)) == date(
            2026, 11, 23
        )


def test_identity_numbers_are_checked_by_their_check_character():
    assert id_card_problem("11010519491231002X") is None
    assert "校验位" in id_card_problem("110105194912310021")
    assert "出生日期" in id_card_problem("110105194913310021")
    assert credit_code_problem("91330100716105852F") is None
    assert "校验位" in credit_code_problem("91330100716105852A")
    assert mask("11010519491231002X") == "110105********002X"


def test_accepting_through_the_api_starts_the_process_and_routes_it(app, item, county):
    response = post_case(app, "center_window_clerk", item, county)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted"
    assert body["number"].startswith("490102") and len(body["number"]) == 19
    assert body["promised_date"] is not None
    assert len(body["query_password"]) == 6
    kinds = [d["kind"] for d in body["documents"]]
    assert kinds == ["receipt", "acceptance"]
    reviewer = api_for(app, "scj_spg_reviewer")
    items = reviewer.get("/api/v1/work-items").get_json()["work_items"]
    assert [i["bpmn_id"] for i in items] == ["review"]
    again = api_for(app, "center_window_clerk").get(f"/api/v1/cases/{body['number']}").get_json()
    assert again["applicant"]["id_number"] == "110105********002X"
    steps = [row["step"] for row in again["history"]]
    assert {"收件", "出具文书", "受理"} <= set(steps)
    assert all(row["at"] and row["step"] for row in again["history"])


def test_missing_materials_cannot_be_accepted_and_nothing_is_stored(app, item, county, session):
    response = post_case(app, "center_window_clerk", item, county, received=("申请书",))
    assert response.status_code == 422
    assert "营业执照" in response.get_json()["error"]["message"]
    assert session.scalars(select(Case)).all() == []


def test_bad_identity_and_place_out_of_reach_are_refused(app, item, county):
    wrong = dict(PERSON, id_number="110105194912310021")
    response = post_case(app, "center_window_clerk", item, county, applicant=wrong)
    assert response.status_code == 422
    assert "applicant_id_number" in response.get_json()["error"]["fields"]
    # a village window cannot receive for another village
    assert post_case(app, "v12_window_clerk", item, county).status_code == 403
    assert post_case(app, "scj_reviewer", item, county).status_code == 403  # not a window


@pytest.mark.moments
def test_correction_then_acceptance(app, item, county, tx):
    with app.app_context():
        _correction_then_acceptance(item, county, tx)


def _in(session, item, county):
    """The item and village v11 as objects of the given session."""
    return session.get(Item, item.id), session.get(Region, county.regions["v11"].id)


def _correction_then_acceptance(item, county, session):
    item, village = _in(session, item, county)
    case, _password = services.receive(
        session,
        services.Intake(item, services.Applicant(**_applicant()), village, {item.materials[0].id}),
        "v11_window_clerk",
    )
    clock = center_clock(session)
    assert case.number[6:14] == f"{clock.today():%Y%m%d}"  # numbered by the local day
    answer_by = WorkCalendar().add_workdays(clock.today(), 5)  # from the local day received
    assert case.decision_due == answer_by
    services.request_correction(session, case, "v11_window_clerk", "请补交营业执照复印件")
    session.commit()
    assert case.status == "correcting"
    notice = case.documents[-1]
    assert notice.kind == "correction"
    assert [m["name"] for m in notice.facts["missing"]] == ["营业执照"]
    with pytest.raises(services.CaseError):
        services.accept(session, case, "v11_window_clerk")
    session.rollback()
    services.receive_correction(session, case, "v11_window_clerk", {case.materials[1].id})
    assert case.decision_due == answer_by  # the materials came in the same local day
    services.accept(session, case, "v11_window_clerk")
    session.commit()
    assert case.status == "accepted"
    assert case.promised_date == clock.promised_date(case.accepted_at, 5)
    assert case.instance.data["accept_date"] == clock.today().isoformat()
    assert [d.kind for d in case.documents] == [
        "receipt",
        "correction",
        "correction_receipt",
        "acceptance",
    ]
    assert case.materials[1].received_round == 1


def test_refusal_closes_the_case_with_the_reason(app, item, county, tx):
    with app.app_context():
        _refusal(item, county, tx)


def _refusal(item, county, session):
    item, village = _in(session, item, county)
    case, _ = services.receive(
        session,
        services.Intake(item, services.Applicant(**_applicant()), village),
        "v11_window_clerk",
    )
    with pytest.raises(services.CaseError):
        services.refuse(session, case, "v11_window_clerk", " ")
    services.refuse(session, case, "v11_window_clerk", "不属于本机关职权范围")
    session.commit()
    assert case.status == "refused" and case.instance_id is None
    assert case.documents[-1].kind == "refusal"
    assert case.documents[-1].facts["reason"] == "不属于本机关职权范围"


@pytest.mark.moments
def test_unanswered_applications_count_as_accepted_on_the_day_received(app, item, county, tx):
    with app.app_context():
        _deemed(item, county, tx)


def _deemed(item, county, session):
    item, village = _in(session, item, county)
    case, _ = services.receive(
        session,
        services.Intake(
            item,
            services.Applicant(**_applicant()),
            village,
            {m.id for m in item.materials},
        ),
        "v11_window_clerk",
    )
    session.commit()
    due = case.decision_due
    assert due == WorkCalendar().add_workdays(center_clock(session).today(), 5)
    assert services.decisions_due_soon(session, due - timedelta(days=1)) == []
    assert services.decisions_due_soon(session, due) == [case]
    received_on = center_clock(session).day_of(case.received_at)
    # ten past midnight after the answer was due (16:10 UTC: still the due day in UTC)
    after = datetime.combine(due + timedelta(days=1), time(0, 10), tzinfo=BEIJING)
    with time_machine.travel(after):
        today = center_clock(session).today()
        assert services.apply_deemed_acceptance(session, due) == []
        deemed = services.apply_deemed_acceptance(session, today)
        session.commit()
    assert today == after.date()
    assert deemed == [case]
    assert case.status == "accepted" and case.accepted_on_day_received
    assert case.accepted_at == case.received_at
    assert case.promised_date == center_clock(session).promised_date(case.received_at, 5)
    notice = dict(documents.public_facts(case.documents[-1]))
    assert notice["受理日期"] == documents.zh_date(received_on)  # accepted the day received
    assert notice["出具日期"] == documents.zh_date(today)


@pytest.mark.moments("fri-1729", "fri-1731")
def test_a_case_accepted_on_friday_starts_its_clock_that_day_or_on_monday_after_hours(
    app, item, county, session, moment
):
    start = {MOMENTS["fri-1729"]: date(2026, 11, 27), MOMENTS["fri-1731"]: date(2026, 11, 30)}
    clock_starts = start[moment]
    body = post_case(app, "center_window_clerk", item, county).get_json()
    assert body["promised_date"] == WorkCalendar().add_workdays(clock_starts, 5).isoformat()
    assert body["decision_due"] == "2026-12-04"  # received Friday: answered within 5 days
    assert body["number"][6:14] == "20261127"
    case = session.scalars(select(Case).where(Case.number == body["number"])).one()
    assert case.instance.data["accept_date"] == "2026-11-27"
    acceptance = case.documents[-1].facts
    assert (acceptance["issued_date"], acceptance["promised_date"]) == (
        "2026-11-27",
        body["promised_date"],
    )
    item.committed_days = 0  # 即办件: due the working day it is handled on
    session.commit()
    instant = post_case(app, "center_window_clerk", item, county).get_json()
    assert instant["promised_date"] == clock_starts.isoformat()


def test_a_pause_from_seven_to_nine_in_the_morning_moves_no_date(app, item, county, tx):
    """07:00 Beijing is 23:00 UTC the day before: the pause lies within one local day."""
    with app.app_context():
        item, village = _in(tx, item, county)
        with time_machine.travel(datetime(2026, 11, 24, 7, 0, tzinfo=BEIJING)):
            case, _ = services.receive(
                tx,
                services.Intake(
                    item,
                    services.Applicant(**_applicant()),
                    village,
                    {m.id for m in item.materials},
                ),
                "v11_window_clerk",
            )
            services.accept(tx, case, "v11_window_clerk")
            services.start_special_procedure(tx, case, "v11_window_clerk", "专家评审", "工艺论证")
            tx.commit()
        promised = case.promised_date
        with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=BEIJING)):
            pause = services.end_special_procedure(tx, case, "v11_window_clerk", "论证完毕")
            tx.commit()
    assert pause.started_at.date() == date(2026, 11, 23)  # as stored, in UTC
    assert pause.paused_workdays == 0
    assert case.promised_date == promised == date(2026, 12, 1)


@pytest.mark.moments
def test_a_suspension_moves_the_promised_date_by_the_local_working_days_it_lasted(
    app, item, county, tx
):
    calendar = WorkCalendar()
    with app.app_context():
        item, village = _in(tx, item, county)
        case, _ = services.receive(
            tx,
            services.Intake(
                item, services.Applicant(**_applicant()), village, {m.id for m in item.materials}
            ),
            "v11_window_clerk",
        )
        services.accept(tx, case, "v11_window_clerk")
        services.suspend(tx, case, "center_inspector", "申请人涉诉，等待法院裁定")
        tx.commit()
        promised, suspended_on = case.promised_date, center_clock(tx).today()
        # resumed nine days later at 07:30, when UTC still says the day before
        resumed_on = suspended_on + timedelta(days=9)
        with time_machine.travel(datetime.combine(resumed_on, time(7, 30), tzinfo=BEIJING)):
            pause = services.resume(tx, case, "center_inspector", "裁定已出")
            tx.commit()
    paused = calendar.workdays_between(suspended_on, resumed_on)
    assert paused > 0 and pause.paused_workdays == paused
    assert case.promised_date == calendar.add_workdays(promised, paused)


def test_withdrawal_terminates_the_process(app, item, county, session):
    body = post_case(app, "center_window_clerk", item, county).get_json()
    case = session.scalars(select(Case).where(Case.number == body["number"])).one()
    with app.app_context():
        services.withdraw(session, case, "center_window_clerk", "申请人申请撤回")
        session.commit()
    assert case.status == "withdrawn"
    assert case.instance.status == "terminated"


def test_decision_and_delivery(app, item, county, session):
    number = post_case(app, "center_window_clerk", item, county).get_json()["number"]
    for username, step in (("scj_spg_reviewer", "review"), ("scj_deputy_leader", "sign")):
        actor = api_for(app, username)
        work = actor.get("/api/v1/work-items").get_json()["work_items"]
        assert [w["bpmn_id"] for w in work] == [step]
        data = (
            {"opinion": "同意"} if step == "review" else {"opinion": "准予", "decision": "approve"}
        )
        assert actor.complete(work[0], data).status_code == 200
    case = session.scalars(select(Case).where(Case.number == number)).one()
    assert case.status == "decided" and case.result == "approve"
    assert case.documents[-1].kind == "decision"
    with app.app_context():
        with pytest.raises(services.CaseError):
            services.deliver(session, case, "center_window_clerk", "窗口直接送达", "")
        services.deliver(session, case, "center_window_clerk", "窗口直接送达", "周建华")
        session.commit()
    assert case.status == "delivered"
    assert case.documents[-1].kind == "delivery"


def test_case_numbers_are_unique_per_county_and_day_under_concurrency(app, item, county):
    engine = engine_of(app)
    numbers: list[str] = []
    barrier = threading.Barrier(4)
    # read once: the fixture's session is not shared
    item_id, place_id = item.id, county.regions["v11"].id

    def receive():
        barrier.wait(timeout=30)  # before any query: on SQLite the first query takes the write lock
        with app.app_context(), Session(engine) as s:
            own_item = s.get(Item, item_id)
            place = s.get(Region, place_id)
            case, _ = services.receive(
                s, services.Intake(own_item, services.Applicant(**_applicant()), place), "x"
            )
            s.commit()
            numbers.append(case.number)

    threads = [threading.Thread(target=receive) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(numbers) == 4 and len(set(numbers)) == 4
    assert sorted(int(n[-5:]) for n in numbers) == [1, 2, 3, 4]


def _applicant() -> dict:
    return {
        "type": "person",
        "name": "周建华",
        "id_number": "11010519491231002X",
        "phone": "13900000000",
    }


def test_percent_and_underscore_in_the_case_search_are_plain_characters(app, item, county):
    number = post_case(app, "center_window_clerk", item, county).get_json()["number"]
    clerk = signed_in(app, "center_window_clerk")
    assert number in clerk.get("/cases/?q=周建").get_data(as_text=True)
    for pattern in ("%", "_", "周_华", "%华"):
        assert number not in clerk.get(f"/cases/?q={pattern}").get_data(as_text=True), pattern


def test_uploaded_names_lose_folders_and_control_characters():
    assert safe_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert safe_name("..\\boot.ini.pdf") == "boot.ini.pdf"
    assert safe_name("a\x00b\r\nSet-Cookie: x.pdf") == "abSet-Cookie x.pdf"
    assert safe_name('"报告".pdf') == "报告.pdf"
    assert safe_name("\r\n") == "file"
    assert safe_name("现场照片.jpg") == "现场照片.jpg"
    long = safe_name("长" * 500 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")


def intake_form(client, item, county) -> dict:
    page = client.get(f"/cases/intake?item={item.id}").get_data(as_text=True)
    return {
        "csrf_token": CSRF.search(page).group(1),
        "nonce": re.search(r'name="nonce" value="([^"]+)"', page).group(1),
        "item": item.id,
        "applicant_type": "person",
        "applicant_name": "周建华",
        "applicant_id_number": "11010519491231002X",
        "applicant_phone": "13900000000",
        "place": county.regions["v11"].id,
        "materials": [m.id for m in item.materials],
        "action": "accept",
    }


def test_the_same_intake_form_posted_twice_makes_one_case(app, item, county, session):
    clerk = signed_in(app, "center_window_clerk")
    form = intake_form(clerk, item, county)
    first = clerk.post("/cases/intake", data=form)
    assert first.status_code == 302 and "/cases/49" in first.headers["Location"]
    again = clerk.post("/cases/intake", data=form)
    assert again.status_code == 302 and again.headers["Location"].endswith("/cases/")
    assert "已经提交过" in clerk.get("/cases/").get_data(as_text=True)
    assert len(session.scalars(select(Case)).all()) == 1
    no_nonce = {k: v for k, v in intake_form(clerk, item, county).items() if k != "nonce"}
    assert clerk.post("/cases/intake", data=no_nonce).status_code == 302
    assert len(session.scalars(select(Case)).all()) == 1


def test_one_nonce_spent_concurrently_makes_one_case(app, item, county):
    engine = engine_of(app)
    made: list[str] = []
    refused: list[str] = []
    barrier = threading.Barrier(2)
    item_id, place_id = item.id, county.regions["v11"].id

    def receive():
        barrier.wait(timeout=30)
        with app.app_context(), Session(engine) as s:
            try:
                once.spend_nonce(s, "the-same-form")
                intake = services.Intake(
                    s.get(Item, item_id),
                    services.Applicant(**_applicant()),
                    s.get(Region, place_id),
                )
                case, _ = services.receive(s, intake, "x")
                s.commit()
                made.append(case.number)
            except once.AlreadySubmitted as exc:
                refused.append(exc.message)

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(made) == 1 and len(refused) == 1


def test_an_idempotency_key_answers_the_same_and_creates_once(app, item, county, session):
    clerk = api_for(app, "center_window_clerk")
    body = {"item_code": item.code, "applicant": PERSON, "place": county.code("v11")}
    body["materials"] = ["申请书", "营业执照"]
    key = {"Idempotency-Key": "order-20261204-0001"}
    first = clerk.client.post("/api/v1/cases", json=body, headers={**clerk.headers, **key})
    assert first.status_code == 201, first.get_json()
    again = clerk.client.post("/api/v1/cases", json=body, headers={**clerk.headers, **key})
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert len(session.scalars(select(Case)).all()) == 1
    other = {**body, "green_channel": True}
    changed = clerk.client.post("/api/v1/cases", json=other, headers={**clerk.headers, **key})
    assert changed.status_code == 422
    assert changed.get_json()["error"]["code"] == "idempotency_key_reused"
    # another caller's key is theirs alone
    start = {"process_id": "simple_item", "data": {"place": county.code("v11")}}
    one = api_for(app, "v11_window_clerk")
    made = [one.client.post("/api/v1/instances", json=start, headers={**one.headers, **key})]
    made.append(one.client.post("/api/v1/instances", json=start, headers={**one.headers, **key}))
    assert [r.status_code for r in made] == [201, 201]
    assert made[0].get_json()["id"] == made[1].get_json()["id"]
