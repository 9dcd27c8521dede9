"""The pickers' search: a colleague found by name, pinyin initials or department, within
the searcher's county; places named by their whole path in the tree's order."""

from __future__ import annotations

import pytest

from app.auth.services import hash_password
from app.models.auth import User
from app.models.org import Department, Post, Region
from app.org.directory import place_labels

from ..conftest import make_user, signed_in


@pytest.fixture
def named(county, session):
    """Two reviewers with Chinese names, and 张伟 in 平原县, a neighbouring county."""
    county.users["scj_reviewer"].display_name = "张晓明"
    county.users["scj_spg_reviewer"].display_name = "李娜"
    other = Region(
        code="490103000000", name="平原县", level="county", parent=county.regions["city"]
    )
    session.add(other)
    session.flush()
    other.path = county.regions["city"].path + f"{other.id}/"
    department = Department(code="D-py-scj", name="平原县市场监督管理局", region=other)
    post = Post(department=department, role="reviewer")
    stranger = User(
        username="py_reviewer", display_name="张伟", password_hash=hash_password("pw-py_reviewer")
    )
    stranger.posts.append(post)
    session.add_all([department, post, stranger])
    session.commit()
    return county


def people(client, text: str) -> list[dict]:
    response = client.get("/org/people", query_string={"q": text})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["people"]


def test_a_clerk_finds_a_colleague_by_the_initials_of_their_name(app, named):
    client = signed_in(app, "t1_window_clerk")
    assert people(client, "zxm") == [
        {"value": "scj_reviewer", "name": "张晓明", "departments": ["青山县市场监督管理局"]}
    ]
    assert [p["value"] for p in people(client, "ZhangX")] == ["scj_reviewer"]
    assert [p["value"] for p in people(client, "晓明")] == ["scj_reviewer"]


def test_a_section_is_shown_under_its_department_and_found_by_its_name(app, named):
    client = signed_in(app, "t1_window_clerk")
    (li_na,) = people(client, "ln")
    assert li_na["departments"] == ["青山县市场监督管理局 / 审批股"]
    assert {p["value"] for p in people(client, "审批股")} == {
        "scj_spg_handler",
        "scj_spg_reviewer",
    }


def test_a_search_stays_within_the_searchers_county(app, named):
    village = signed_in(app, "v11_window_clerk")
    assert [p["value"] for p in people(village, "zw")] == []
    # a village window's county: its township's and the county's people
    assert [p["value"] for p in people(village, "zxm")] == ["scj_reviewer"]
    assert "t2_reviewer" in {p["value"] for p in people(village, "t2_rev")}
    administrator = signed_in(app, "bigdata_admin")
    assert [p["value"] for p in people(administrator, "zw")] == ["py_reviewer"]


def test_a_person_without_a_post_finds_nobody(app, named):
    make_user(app, "nobody", password="pw-nobody")
    assert people(signed_in(app, "nobody"), "zxm") == []


def test_an_anonymous_visitor_is_sent_to_login(app, named):
    response = app.test_client().get("/org/people?q=zxm")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "张晓明" not in response.get_data(as_text=True)


def test_an_empty_search_lists_nobody(app, named):
    assert people(signed_in(app, "bigdata_admin"), "  ") == []


def test_places_are_named_by_their_path_in_the_order_of_their_codes(app, county, session):
    regions = [county.regions[k] for k in ("v21", "t2", "v12", "county", "v11", "t1")]
    places = place_labels(session, regions)
    assert [p.label for p in places] == [
        "青山县",
        "青山县 / 城关镇",
        "青山县 / 城关镇 / 东关村",
        "青山县 / 城关镇 / 西关村",
        "青山县 / 河口镇",
        "青山县 / 河口镇 / 河口村",
    ]
    assert places[2].pinyin.startswith("qsx cgz dgc qingshanxian chengguanzhen dongguancun")
