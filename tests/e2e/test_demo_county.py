"""The demo county: every demo user sees exactly their work; a sample checked in the browser."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models.auth import User
from app.models.org import Department, Post, Region, user_post

from ..conftest import DEMO_PASSWORD as PASSWORD
from ..conftest import SHIPPED, api_for, bundle
from ..workflows.test_joint_review import ACCEPT
from .conftest import login
from .test_worklists import worklist

pytestmark = pytest.mark.e2e

REGISTER = {
    "applicant_name": "周建华",
    "applicant_id_number": "11010519491231002X",
    "contact_phone": "13900000000",
    "company_name": "青山县白沙石料厂",
    "product_type": "building_stone",
    "plant_address": "白沙镇北岭",
}


def place_of(session, username: str) -> str:
    """The region code of the unit where a demo user works."""
    return session.scalar(
        select(Region.code)
        .join(Department, Department.region_id == Region.id)
        .join(Post, Post.department_id == Department.id)
        .join(user_post, user_post.c.post_id == Post.id)
        .join(User, User.id == user_post.c.user_id)
        .where(User.username == username)
    )


@pytest.fixture
def cases(app, api, demo, session):
    """Three cases at different steps; returns (instance ids, who should see what)."""
    assert api.deploy(*bundle(SHIPPED / "mineral_permit")).status_code == 201
    assert api.deploy(*bundle(SHIPPED / "joint_review")).status_code == 201
    first = api.start("mineral_permit", {"place": place_of(session, "v0101_clerk")}).get_json()[
        "id"
    ]
    second = api.start("mineral_permit", {"place": place_of(session, "v0305_clerk")}).get_json()[
        "id"
    ]
    joint = api.start(
        "joint_review",
        {"place": place_of(session, "v0101_clerk"), "lead_department": "市场监督管理局"},
    ).get_json()["id"]
    done = api_for(app, "v0101_clerk").complete(api.open_items(first)["Task_Register"], REGISTER)
    assert done.status_code == 200, done.get_json()
    done = api_for(app, "center_clerk").complete(api.open_items(joint)["Task_Accept"], ACCEPT)
    assert done.status_code == 200, done.get_json()
    return {
        "t01_reviewer": {(str(first), "Task_TownshipReview")},
        "v0305_clerk": {(str(second), "Task_Register")},
        "xf_reviewer": {(str(joint), "Task_DeptReview_Fire")},
        "sthj_reviewer": {(str(joint), "Task_DeptReview_Env")},
        "wjw_reviewer": {(str(joint), "Task_DeptReview_Health")},
    }


def test_every_demo_user_sees_exactly_their_work(app, session, cases):
    usernames = session.scalars(select(User.username).where(User.username != "admin")).all()
    assert len(usernames) >= 500
    everything = set().union(*cases.values())
    wrong = {}
    for username in usernames:
        items = api_for(app, username).get("/api/v1/work-items").get_json()["work_items"]
        seen = {(str(i["instance"]), i["bpmn_id"]) for i in items}
        expected = (
            everything
            if username in ("bigdata_admin", "bigdata_designer")
            else cases.get(username, set())
        )
        if seen != expected:
            wrong[username] = seen
    assert wrong == {}


SAMPLE = [
    "t01_reviewer",
    "v0305_clerk",
    "xf_reviewer",
    "wjw_reviewer",
    "v0101_clerk",
    "t03_reviewer",
    "t01_clerk",
    "scj_reviewer",
    "zrzy_kc_reviewer",
    "city_zrzy_kc_reviewer",
    "center_clerk",
    "bigdata_admin",
]


def test_in_the_browser_the_right_work_shows_up_and_nothing_else(app, cases, live_server, new_page):
    for username in SAMPLE:
        page = new_page()
        login(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/desk/")
        assert worklist(page) == cases.get(username, set()), username
    inspector = new_page()
    login(inspector, live_server, "center_inspector", PASSWORD)
    assert inspector.locator("#instance-count").inner_text() == "3"
