"""Login sessions end when they should: a copied cookie is worthless after logout,
a new password, an administrator's reset or deactivation, and every staff session
ends after a while without requests and after a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_login.utils import encode_cookie

from app.models.auth import User
from app.org.services import reset_password, set_user_active

from ..conftest import make_user, signed_in
from .test_login import csrf

PAGE = "/account/password"  # any page that needs a login


def is_logged_in(client) -> bool:
    response = client.get(PAGE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def replay(app, client):
    """Another browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


@pytest.fixture
def clerk(app, session):
    make_user(app, "clerk", password="pw-clerk")
    make_user(app, "boss", admin=True, password="pw-boss")
    return session.query(User).filter_by(username="clerk").one()


def test_a_copied_cookie_is_refused_after_logout(app, clerk):
    browser = signed_in(app, "clerk")
    thief = replay(app, browser)
    assert is_logged_in(thief)
    browser.post("/logout", data={"csrf_token": csrf(browser, PAGE)})
    assert not is_logged_in(browser)
    assert not is_logged_in(thief)


def test_a_copied_cookie_is_refused_after_the_person_changes_the_password(app, clerk):
    browser = signed_in(app, "clerk")
    thief = replay(app, browser)
    changed = browser.post(
        PAGE,
        data={
            "current": "pw-clerk",
            "new": "new-password",
            "confirm": "new-password",
            "csrf_token": csrf(browser, PAGE),
        },
    )
    assert changed.status_code == 302
    assert is_logged_in(browser)  # the person goes on working
    assert not is_logged_in(thief)


@pytest.mark.parametrize("by", ["reset", "deactivation"])
def test_a_session_ends_when_the_administrator_resets_or_deactivates(app, clerk, session, by):
    browser = signed_in(app, "clerk")
    thief = replay(app, browser)
    boss = session.query(User).filter_by(username="boss").one()
    if by == "reset":
        reset_password(session, clerk, "another-password")
    else:
        set_user_active(session, clerk, False, boss)
    session.commit()
    assert not is_logged_in(browser)
    assert not is_logged_in(thief)


def test_a_session_ends_after_thirty_idle_minutes(app, clerk):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        browser = signed_in(app, "clerk")
        clock.shift(timedelta(minutes=29))
        assert is_logged_in(browser)
        clock.shift(timedelta(minutes=29))
        assert is_logged_in(browser)  # each request starts the idle time again
        clock.shift(timedelta(minutes=31))
        assert not is_logged_in(browser)


def test_a_busy_session_still_ends_twelve_hours_after_login(app, clerk):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        browser = signed_in(app, "clerk")
        for _ in range(11 * 3 + 2):  # a request every twenty minutes, 11h40 in all
            clock.shift(timedelta(minutes=20))
            assert is_logged_in(browser)
        clock.shift(timedelta(minutes=20))
        assert not is_logged_in(browser)


def test_the_lifetimes_come_from_the_configuration(app, clerk):
    app.config["SESSION_IDLE_MINUTES"] = 5
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        browser = signed_in(app, "clerk")
        clock.shift(timedelta(minutes=6))
        assert not is_logged_in(browser)


def test_a_remember_me_cookie_does_not_bring_a_session_back(app, clerk):
    client = app.test_client()
    with app.test_request_context():
        client.set_cookie("remember_token", encode_cookie(str(clerk.id)))
    assert not is_logged_in(client)
