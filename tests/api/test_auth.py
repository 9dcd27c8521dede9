"""No API endpoint answers without a valid bearer token."""

from datetime import UTC, timedelta

import pytest
import time_machine

from workflows.timeutil import utcnow

from ..conftest import CSRF, make_user, signed_in


def api_token(app, username: str) -> str:
    from app.auth.services import issue_token
    from app.extensions import db

    with app.app_context():
        token = issue_token(db.session, username)
        db.session.commit()
    return token


ENDPOINTS = [
    ("post", "/api/v1/deployments"),
    ("get", "/api/v1/processes"),
    ("post", "/api/v1/instances"),
    ("get", "/api/v1/instances/1"),
    ("post", "/api/v1/instances/1/terminate"),
    ("post", "/api/v1/instances/1/retry"),
    ("get", "/api/v1/work-items"),
    ("get", "/api/v1/work-items/1"),
    ("post", "/api/v1/work-items/1/claim"),
    ("post", "/api/v1/work-items/1/release"),
    ("post", "/api/v1/work-items/1/complete"),
    ("post", "/api/v1/timers/fire"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic YWRtaW46YWRtaW4=", "Bearer "])
def test_every_endpoint_needs_a_valid_token(client, method, path, header):
    headers = {"Authorization": header} if header else {}
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "path", ["/api/v1/timers/fire", "/api/v1/instances/1/terminate", "/api/v1/instances/1/retry"]
)
def test_admin_endpoints_refuse_other_users(app, client, path):
    token = make_user(app, "clerk")
    response = client.post(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_revoked_tokens_and_inactive_users_are_refused(app, client, session):
    from app.models.auth import ApiToken, User

    token = make_user(app, "temp")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/processes", headers=headers).status_code == 200
    user = session.query(User).filter_by(username="temp").one()
    user.active = False
    session.commit()
    assert client.get("/api/v1/processes", headers=headers).status_code == 401
    user = session.query(User).filter_by(username="temp").one()
    user.active = True
    session.query(ApiToken).filter_by(user_id=user.id).one().revoked_at = utcnow()
    session.commit()
    assert client.get("/api/v1/processes", headers=headers).status_code == 401


def test_unknown_api_paths_answer_json(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "找不到请求的资源。"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_expires_after_its_days(app, client):
    make_user(app, "clerk")
    result = app.test_cli_runner().invoke(args=["tokens", "create", "clerk", "--days", "7"])
    assert result.exit_code == 0 and "7 天内有效" in result.output
    token = result.output.strip().splitlines()[-1]
    with time_machine.travel(utcnow().replace(tzinfo=UTC) + timedelta(days=6, hours=23)):
        assert client.get("/api/v1/processes", headers=bearer(token)).status_code == 200
    with time_machine.travel(utcnow().replace(tzinfo=UTC) + timedelta(days=7, minutes=1)):
        response = client.get("/api/v1/processes", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_tokens_last_ninety_days_unless_configured(app, session):
    from app.models.auth import ApiToken

    make_user(app, "clerk")
    runner = app.test_cli_runner()
    runner.invoke(args=["tokens", "create", "clerk", "--name", "default"])
    app.config["API_TOKEN_DAYS"] = 30
    runner.invoke(args=["tokens", "create", "clerk", "--name", "configured"])
    tokens = session.query(ApiToken).filter(ApiToken.name.in_(["default", "configured"]))
    lifetimes = {t.name: (t.expires_at - t.created_at).days for t in tokens}
    assert lifetimes == {"default": 90, "configured": 30}


def test_tokens_are_listed_and_revoked_from_the_command_line(app, client, session):
    from app.audit.chain import verify
    from app.models.audit import AuditEntry

    first, second, other = make_user(app, "clerk"), api_token(app, "clerk"), make_user(app, "boss")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["tokens", "list", "clerk"]).output.strip().splitlines()
    assert len(listed) == 2 and all("\tclerk\t" in line and "有效" in line for line in listed)
    assert len(runner.invoke(args=["tokens", "list"]).output.strip().splitlines()) == 3

    one = listed[-1].split("\t")[0]  # the oldest: the first token
    assert "已撤销 1 个" in runner.invoke(args=["tokens", "revoke", one]).output
    assert client.get("/api/v1/processes", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/processes", headers=bearer(second)).status_code == 200

    assert "已撤销 1 个" in runner.invoke(args=["tokens", "revoke", "--user", "clerk"]).output
    assert client.get("/api/v1/processes", headers=bearer(second)).status_code == 401
    assert client.get("/api/v1/processes", headers=bearer(other)).status_code == 200
    assert "已撤销" in runner.invoke(args=["tokens", "list", "clerk"]).output

    revoked = session.query(AuditEntry).filter_by(source="auth", action="token_revoked").all()
    assert len(revoked) == 2 and all(e.actor == "cli" for e in revoked)
    assert verify(session)[1] is None
    assert runner.invoke(args=["tokens", "revoke", "999"]).exit_code != 0
    assert runner.invoke(args=["tokens", "revoke"]).exit_code != 0


def test_a_person_sees_and_revokes_only_their_own_tokens(app, session):
    from app.models.auth import ApiToken

    mine = make_user(app, "clerk", password="pw-clerk")
    theirs = make_user(app, "other")
    browser = signed_in(app, "clerk")
    page = browser.get("/account/tokens").get_data(as_text=True)
    own_id = session.query(ApiToken).join(ApiToken.user).filter_by(username="clerk").one().id
    other_id = session.query(ApiToken).join(ApiToken.user).filter_by(username="other").one().id
    assert f'id="token-{own_id}"' in page and f'id="token-{other_id}"' not in page

    token = CSRF.search(page).group(1)
    refused = browser.post(f"/account/tokens/{other_id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 404
    assert browser.get("/api/v1/processes", headers=bearer(theirs)).status_code == 200

    done = browser.post(f"/account/tokens/{own_id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302
    assert browser.get("/api/v1/processes", headers=bearer(mine)).status_code == 401


def test_an_administrator_sees_and_revokes_everyones_tokens(app, session):
    from app.models.auth import ApiToken

    theirs = make_user(app, "clerk")
    make_user(app, "boss", admin=True, password="pw-boss")
    browser = signed_in(app, "boss")
    page = browser.get("/account/tokens").get_data(as_text=True)
    clerk_id = session.query(ApiToken).join(ApiToken.user).filter_by(username="clerk").one().id
    assert f'id="token-{clerk_id}"' in page and "（全部用户）" in page
    token = CSRF.search(page).group(1)
    assert (
        browser.post(f"/account/tokens/{clerk_id}/revoke", data={"csrf_token": token}).status_code
        == 302
    )
    assert browser.get("/api/v1/processes", headers=bearer(theirs)).status_code == 401
    assert session.get(ApiToken, clerk_id).revoked_by == "boss"
