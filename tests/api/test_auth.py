"""No API endpoint answers without a valid bearer token."""

import pytest

from workflows.timeutil import utcnow

from ..conftest import make_user

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
