"""A designer uploads a bundle on the staff page and reads the report."""

import io
import re

from ..conftest import DIAGRAMS, SHIPPED, bundle, make_user
from ..diagrams import chain, script, user


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def login(client, username="designer", password="designer-pass", admin=True):
    make_user(client.application, username, admin=admin, password=password)
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)}
    )


def upload(client, files):
    page = client.get("/designer/").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "files": [(io.BytesIO(c), n) for n, c in files]}
    return client.post("/designer/upload", data=data, content_type="multipart/form-data")


def test_pages_need_login(client):
    response = client.get("/designer/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_wrong_password_is_refused(client):
    make_user(client.application, "designer", admin=True, password="right-password")
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"username": "designer", "password": "wrong", "csrf_token": csrf_token(page)}
    )
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/designer/").status_code == 302


def test_designer_uploads_the_shipped_bundle_and_sees_versions(client):
    login(client)
    files = [(p.name, p.read_bytes()) for p in bundle(SHIPPED / "joint_review")]
    response = upload(client, files)
    # Post/Redirect/Get: a refresh of the result page does not upload again
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "部署成功" in html
    assert "joint_review 第 1 版" in html
    refreshed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "部署成功" not in refreshed and "<code>joint_review</code>" in refreshed
    again = upload(client, files)
    assert "没有产生新版本" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_designer_sees_the_validation_report(client):
    login(client)
    broken = chain("p", script("calc", "x = __import__('os')"), user("t", form="nope.json"))
    response = upload(client, [("p.bpmn", broken)])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "script.forbidden" in html
    assert "form.missing" in html
    assert "<code>calc</code>" in html
    assert "还没有部署任何流程" in html


def test_designer_is_warned_when_an_unrelated_diagram_takes_a_process_id(client):
    login(client)
    for name in ("bpmnio_plain.bpmn", "bpmnio_collaboration.bpmn"):
        response = upload(client, [(name, (DIAGRAMS / name).read_bytes())])
        assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "部署成功" in html and "process.id_reused" in html
    assert "流程 ID Process_1 已被另一张图（名称：未命名，第 1 版）使用" in html
    assert "是否替换了一张无关的图？" in html


def test_upload_without_csrf_token_is_refused(client):
    login(client)
    response = client.post(
        "/designer/upload",
        data={"files": [(io.BytesIO(b"x"), "a.bpmn")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)


def test_non_admin_staff_cannot_deploy(client):
    login(client, "clerk", "clerk-password", admin=False)
    assert client.get("/designer/").status_code == 403
