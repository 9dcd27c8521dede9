"""The commands the README and operators use."""

from app.auth.services import find_user

from .conftest import SHIPPED


def test_tokens_create_prints_the_token_last_and_it_works(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin"], env={"YIMEN_ADMIN_PASSWORD": "s3cret-pass"})
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output
    assert "已创建" in result.output and "已存在" not in result.output
    again = runner.invoke(args=["create-admin"])
    assert "已存在" in again.output

    result = runner.invoke(args=["tokens", "create", "admin"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    response = client.get("/api/v1/processes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

    unknown = runner.invoke(args=["tokens", "create", "nobody"])
    assert unknown.exit_code != 0
    assert "不存在" in unknown.output


def test_create_admin_prints_a_generated_password_once(app, session):
    result = app.test_cli_runner().invoke(args=["create-admin"], env={"YIMEN_ADMIN_PASSWORD": ""})
    assert result.exit_code == 0
    password = result.output.split("：", 1)[1].split()[0]
    from app.auth.services import check_password

    assert check_password(find_user(session, "admin"), password)


def test_bpmn_load_deploys_the_shipped_diagrams_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bpmn-load", str(SHIPPED)])
    assert first.exit_code == 0, first.output
    assert "joint_review: 已部署 joint_review v1" in first.output
    second = runner.invoke(args=["bpmn-load", str(SHIPPED)])
    assert "未变化" in second.output
