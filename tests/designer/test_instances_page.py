"""A designer finds a failed case, reads where it failed, fixes the diagram and retries."""

from ..conftest import Api, make_user
from ..diagrams import chain, script, user
from .test_upload_page import csrf_token, login


def failing_instance(app, client) -> int:
    api = Api(client, make_user(app, "robot", admin=True))
    api.deploy(
        (
            "calc.bpmn",
            chain("calc", user("enter"), script("compute", "ratio = 10 / zero"), user("check")),
        )
    )
    instance_id = api.start("calc").get_json()["id"]
    api.complete(api.open_items(instance_id)["enter"], {"zero": 0})
    fixed = chain(
        "calc", user("enter"), script("compute", "ratio = 10 / max(zero, 1)"), user("check")
    )
    api.deploy(("calc.bpmn", fixed))
    return instance_id


def test_failed_case_is_listed_explained_and_retried_on_the_new_version(app, client):
    instance_id = failing_instance(app, client)
    login(client)
    listing = client.get("/designer/instances?status=error").get_data(as_text=True)
    assert f"#{instance_id}" in listing
    assert "compute" in listing

    page = client.get(f"/designer/instances/{instance_id}").get_data(as_text=True)
    assert "<code>compute</code>" in page
    assert "ZeroDivisionError" in page
    assert "出错" in page and "完成步骤" in page

    response = client.post(
        f"/designer/instances/{instance_id}/retry",
        data={"version": "2", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "已重试，办件继续流转" in html
    assert "check" in html and "迁移版本" in html


def test_retry_on_a_version_that_does_not_exist_is_explained(app, client):
    instance_id = failing_instance(app, client)
    login(client)
    page = client.get(f"/designer/instances/{instance_id}").get_data(as_text=True)
    response = client.post(
        f"/designer/instances/{instance_id}/retry",
        data={"version": "9", "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 404
    assert "第 9 版" in response.get_data(as_text=True)


def test_terminate_needs_a_reason_and_a_csrf_token(app, client):
    instance_id = failing_instance(app, client)
    login(client)
    page = client.get(f"/designer/instances/{instance_id}").get_data(as_text=True)
    assert (
        client.post(
            f"/designer/instances/{instance_id}/terminate", data={"reason": "x"}
        ).status_code
        == 400
    )
    empty = client.post(
        f"/designer/instances/{instance_id}/terminate",
        data={"reason": "", "csrf_token": csrf_token(page)},
    )
    assert empty.status_code == 400
    assert "请填写终止原因" in empty.get_data(as_text=True)
    done = client.post(
        f"/designer/instances/{instance_id}/terminate",
        data={"reason": "申请人撤回", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "办件已终止" in done.get_data(as_text=True)


def test_instance_pages_are_for_administrators_only(app, client):
    instance_id = failing_instance(app, client)
    assert client.get("/designer/instances").status_code == 302
    login(client, "clerk", "clerk-password", admin=False)
    assert client.get("/designer/instances").status_code == 403
    assert client.get(f"/designer/instances/{instance_id}").status_code == 403
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert (
        client.post(
            f"/designer/instances/{instance_id}/retry", data={"csrf_token": token}
        ).status_code
        == 403
    )
