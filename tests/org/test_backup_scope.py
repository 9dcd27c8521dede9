"""Who may be named B角 (a B角 sees the A角's work, full ID numbers included):
on one's own 请假 only a colleague of one's department, its sections or its parent
department; an administrator anyone holding a post in the A角's county."""

from __future__ import annotations

import pytest

from app.models.auth import User
from app.models.org import Backup
from app.org import services as org

from ..conftest import CSRF, signed_in


def own_leave(app, holder: str, backup: str):
    client = signed_in(app, holder)
    token = CSRF.search(client.get("/account/leave").get_data(as_text=True)).group(1)
    return client.post("/account/leave", data={"backup": backup, "csrf_token": token})


@pytest.mark.parametrize(
    ("holder", "backup"),
    [
        ("t1_reviewer", "t1_handler"),  # the same department
        ("scj_reviewer", "scj_spg_handler"),  # a section of the holder's department
        ("scj_spg_reviewer", "scj_chief_leader"),  # the department the section belongs to
    ],
)
def test_a_person_names_a_colleague_as_backup(app, county, session, holder, backup):
    response = own_leave(app, holder, backup)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    (entry,) = session.query(Backup).all()
    assert entry.backup.username == backup and entry.created_by == holder


@pytest.mark.parametrize(
    "backup",
    [
        "fire_handler",  # another department of the same county
        "t2_handler",  # another township
        "city_zrzy_kc_handler",  # the city
        "admin",  # an administrator without a post
    ],
)
def test_a_person_cannot_name_a_stranger_as_backup(app, api, county, session, backup):
    response = own_leave(app, "t1_reviewer", backup)
    assert response.status_code == 400
    assert "不能担任您的 B角" in response.get_data(as_text=True)
    assert session.query(Backup).count() == 0


def test_an_inactive_colleague_cannot_stand_in(app, county, session):
    session.query(User).filter_by(username="t1_handler").one().active = False
    session.commit()
    response = own_leave(app, "t1_reviewer", "t1_handler")
    assert response.status_code == 400 and "已停用" in response.get_data(as_text=True)


def test_an_administrator_names_anyone_within_the_county(tx):
    from ..county import build_county

    county = build_county(tx)
    users = county.users
    for backup in ("t2_handler", "fire_handler", "v21_window_clerk"):
        assert org.create_backup(tx, holder=users["scj_reviewer"], backup=users[backup])
    assert org.start_leave(tx, users["t1_reviewer"], users["fire_reviewer"], None, "出差")
    for backup in ("city_zrzy_kc_handler", "city_jw_inspector"):
        with pytest.raises(org.OrgError, match="不在 A角所在的县") as refused:
            org.create_backup(tx, holder=users["scj_reviewer"], backup=users[backup])
        assert refused.value.field == "backup"
    with pytest.raises(org.OrgError, match="不在 A角所在的县"):
        org.start_leave(tx, users["t1_reviewer"], users["city_zrzy_kc_reviewer"], None, "")


def test_at_city_level_the_county_is_the_city(tx):
    from ..county import build_county

    users = build_county(tx).users
    assert org.create_backup(tx, holder=users["city_zrzy_kc_handler"], backup=users["scj_reviewer"])
