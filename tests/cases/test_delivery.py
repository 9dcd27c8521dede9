"""待送达: a decided case waits at the window that received it, and its clerks are told once.

Also: a 即办件 received at a village window is decided at that window, not sent to
the county center.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.cases import delivery, services
from app.cases.places import served_places
from app.models.auth import User
from app.models.cases import Case
from app.models.items import Item, ItemMaterial
from app.models.notifications import Notification
from app.models.org import Department, Post, Region
from app.routing.windows import nearest_window

from ..conftest import CSRF, DEMO_PASSWORD, api_for, signed_in
from ..county import _hash
from ..diagrams import laned, user
from .test_intake import REVIEW, post_case


@pytest.fixture
def item(api, county, session) -> Item:
    """A 承诺件 reviewed and signed at the county (the diagram has no delivery step)."""
    assert api.deploy(("simple.bpmn", REVIEW)).status_code == 201
    item = Item(
        code="TEST-001",
        name="测试许可",
        kind="promise",
        lead_department_id=county.departments["scj"].id,
        committed_days=5,
        process_id="simple_item",
        status="published",
    )
    item.materials = [
        ItemMaterial(position=0, name="申请书", form="original", required=True),
        ItemMaterial(position=1, name="营业执照", form="copy", required=True),
    ]
    session.add(item)
    session.commit()
    return item


APPROVALS = (
    ("scj_spg_reviewer", "review", {"opinion": "同意"}),
    ("scj_deputy_leader", "sign", {"opinion": "准予", "decision": "approve"}),
)


def _approve_all(app) -> None:
    for username, step, data in APPROVALS:
        actor = api_for(app, username)
        work = actor.get("/api/v1/work-items").get_json()["work_items"]
        assert [w["bpmn_id"] for w in work] == [step]
        assert actor.complete(work[0], data).status_code == 200


def _queue(app, username: str) -> tuple[str, str]:
    """The 待送达 page as ``username`` sees it, and the number in its tab."""
    page = signed_in(app, username).get("/desk/deliveries")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    count = re.search(r'id="delivery-count">(\d+)<', text).group(1)
    return text, count


def _notices(session, username: str) -> list[Notification]:
    session.expire_all()
    return list(
        session.scalars(
            select(Notification).where(
                Notification.username == username, Notification.kind == delivery.NOTICE_KIND
            )
        )
    )


def _other_county(session, county) -> User:
    """白水县 next to 青山县, with its own center window and clerk."""
    other = Region(
        code="490103000000", name="白水县", level="county", parent=county.regions["city"]
    )
    session.add(other)
    session.flush()
    other.path = county.regions["city"].path + f"{other.id}/"
    center = Department(code="D-other-center", name="白水县政务服务中心", region=other)
    clerk = User(
        username="other_window_clerk",
        display_name="白水县窗口",
        password_hash=_hash("pw-other_window_clerk"),
    )
    clerk.posts.append(Post(department=center, role="window_clerk"))
    session.add_all([center, clerk])
    session.commit()
    return clerk


def test_clerk_sees_the_case_to_deliver_after_the_last_approval(app, item, county, session):
    number = post_case(app, "v11_window_clerk", item, county).get_json()["number"]
    assert number not in _queue(app, "v11_window_clerk")[0]  # still being decided
    _approve_all(app)

    text, count = _queue(app, "v11_window_clerk")
    assert number in text and count == "1"
    assert "去送达" in text
    assert number in _queue(app, "v11_window_clerk")[0]
    # the county center did not receive it: not in its queue
    text, count = _queue(app, "center_window_clerk")
    assert number not in text and count == "0"

    client = signed_in(app, "v11_window_clerk")
    detail = client.get(f"/cases/{number}").get_data(as_text=True)
    response = client.post(
        f"/cases/{number}/deliver",
        data={"receiver": "周建华", "csrf_token": CSRF.search(detail).group(1)},
    )
    assert response.status_code == 302
    text, count = _queue(app, "v11_window_clerk")
    assert number not in text and count == "0"


def test_a_clerk_of_another_county_does_not_see_it(app, item, county, session):
    _other_county(session, county)
    number = post_case(app, "center_window_clerk", item, county).get_json()["number"]
    _approve_all(app)
    assert number in _queue(app, "center_window_clerk")[0]
    text, count = _queue(app, "other_window_clerk")
    assert number not in text and count == "0"
    assert _notices(session, "other_window_clerk") == []


def test_the_message_arrives_once(app, item, county, session):
    number = post_case(app, "v11_window_clerk", item, county).get_json()["number"]
    _approve_all(app)
    notices = _notices(session, "v11_window_clerk")
    assert [n.link for n in notices] == [f"/cases/{number}"]
    assert "待送达" in notices[0].text and "准予" in notices[0].text
    assert _notices(session, "center_window_clerk") == []

    case = session.scalars(select(Case).where(Case.number == number)).one()
    with app.app_context():
        assert delivery.result_ready(session, case) == []  # said again: nothing more
        services.CaseObserver().instance_saved(session, case.instance, [])  # re-saved
        session.commit()
    assert len(_notices(session, "v11_window_clerk")) == 1
    page = signed_in(app, "v11_window_clerk").get("/notifications/").get_data(as_text=True)
    assert page.count(f"/cases/{number}") == 1


def _village_without_window(session, county) -> Region:
    village = Region(
        code="490102100203", name="南关村", level="village", parent=county.regions["t1"]
    )
    session.add(village)
    session.flush()
    village.path = county.regions["t1"].path + f"{village.id}/"
    session.commit()
    return village


def test_a_village_without_a_window_is_served_by_its_township(app, county, session):
    village = _village_without_window(session, county)
    served = set(served_places(session, [county.regions["t1"]]))
    assert village.id in served and county.regions["t1"].id in served
    assert county.regions["v11"].id not in served  # 东关村 has its own 代办点
    posts = nearest_window(session, village)
    assert {p.department.name for p in posts} == {"城关镇便民服务中心"}


def test_a_case_nobody_of_a_window_received_waits_at_the_window_serving_its_place(
    app, item, county, session
):
    village = _village_without_window(session, county)
    response = api_for(app, "admin").post(
        "/api/v1/cases",
        {
            "item_code": item.code,
            "applicant": {
                "type": "person",
                "name": "周建华",
                "id_number": "11010519491231002X",
                "phone": "13900000000",
            },
            "place": village.code,
            "materials": ["申请书", "营业执照"],
        },
    )
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    _approve_all(app)
    assert number in _queue(app, "t1_window_clerk")[0]
    assert [n.link for n in _notices(session, "t1_window_clerk")] == [f"/cases/{number}"]
    for other in ("center_window_clerk", "v11_window_clerk"):
        assert number not in _queue(app, other)[0]


# --- 即办件 stay at the receiving window ----------------------------------------------


@pytest.fixture
def village_clerk(shipped, session) -> tuple[str, Region]:
    """A village 代办点 clerk of the demo county, and the village."""
    user = session.scalars(select(User).where(User.username == "v0101_clerk")).one()
    return user.username, user.posts[0].department.region


def test_an_instant_item_received_at_a_village_is_decided_there(app, village_clerk, session):
    username, village = village_clerk
    business_change = session.scalars(select(Item).where(Item.code == "SCJ-GTGSH-BGDJ")).one()
    assert business_change.kind == "instant" and business_change.process_id == "business_change"
    clerk = api_for(app, username)
    response = clerk.post(
        "/api/v1/cases",
        {
            "item_code": business_change.code,
            "applicant": {
                "type": "person",
                "name": "周建华",
                "id_number": "11010519491231002X",
                "phone": "13900000000",
            },
            "place": village.code,
            "materials": [m.name for m in business_change.materials if m.required],
        },
    )
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    work = clerk.get("/api/v1/work-items").get_json()["work_items"]
    assert [w["bpmn_id"] for w in work] == ["Task_Decide"]
    county_queue = api_for(app, "center_clerk").get("/api/v1/work-items").get_json()
    assert county_queue["work_items"] == []

    decided = clerk.complete(
        work[0],
        {
            "change_type": "premises",
            "decision": "approve",
            "opinion": "材料齐全",
            "registration_no": "92490102MA0000001X",
        },
    )
    assert decided.status_code == 200, decided.get_json()
    page = signed_in(app, username, DEMO_PASSWORD).get("/desk/deliveries")
    assert number in page.get_data(as_text=True)
    text = signed_in(app, "center_clerk", DEMO_PASSWORD).get("/desk/deliveries")
    assert number not in text.get_data(as_text=True)


DELIVERED_IN_PROCESS = laned(
    "delivered_item",
    ("县 市场监督管理局/审批股 审核人", user("review", "审核")),
    ("村 窗口受理员", user("deliver", "结果送达", {"case_status": "delivered"})),
)


def test_a_diagram_with_its_own_delivery_step_still_queues_at_the_receiving_window(
    app, api, county, session
):
    assert api.deploy(("delivered.bpmn", DELIVERED_IN_PROCESS)).status_code == 201
    item = Item(
        code="TEST-002",
        name="测试送达",
        kind="report",
        lead_department_id=county.departments["scj"].id,
        committed_days=5,
        process_id="delivered_item",
        status="published",
    )
    session.add(item)
    session.commit()
    number = post_case(app, "v11_window_clerk", item, county, received=()).get_json()["number"]
    reviewer = api_for(app, "scj_spg_reviewer")
    work = reviewer.get("/api/v1/work-items").get_json()["work_items"]
    assert reviewer.complete(work[0], {"opinion": "准予"}).status_code == 200

    text, count = _queue(app, "v11_window_clerk")
    assert number in text and count == "1" and "流程中送达" in text
    assert len(_notices(session, "v11_window_clerk")) == 1
    clerk = api_for(app, "v11_window_clerk")
    step = clerk.get("/api/v1/work-items").get_json()["work_items"]
    assert [w["bpmn_id"] for w in step] == ["deliver"]
    assert clerk.complete(step[0], {"receiver_name": "周建华"}).status_code == 200
    text, count = _queue(app, "v11_window_clerk")
    assert number not in text and count == "0"
