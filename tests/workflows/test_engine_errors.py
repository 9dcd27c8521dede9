"""Whatever fails inside the engine stops the instance visibly, never with a 500.

A timer whose expression gives a number, a failure SpiffWorkflow lets through
as a plain Python exception: the user's completion is kept, the instance stops
in ``error`` with a Chinese message naming the step, and an administrator
retries it after deploying a fix.
"""

from __future__ import annotations

import re

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from workflows import models as m

from ..conftest import CSRF, signed_in
from ..diagrams import chain, laned, timer_catch, user


def waiting(process_id: str, expression: str) -> bytes:
    return chain(process_id, user("before"), timer_catch("Timer_1", expression), user("after"))


def test_a_timer_written_as_timedelta_waits_like_pt30s(api):
    assert api.deploy(("t.bpmn", waiting("pause", "timedelta(seconds=30)"))).status_code == 201
    instance_id = api.start("pause").get_json()["id"]
    body = api.complete(api.open_items(instance_id)["before"]).get_json()
    assert body["status"] == "running" and body["error"] is None
    assert body["next_timer_at"] is not None


def test_a_timer_constant_that_is_not_iso_is_refused_at_deploy(api):
    for text in ("30", "'abc'"):
        response = api.deploy(("t.bpmn", waiting("pause", text)))
        assert response.status_code == 422
        (problem,) = response.get_json()["error"]["problems"]
        assert problem["key"] == "timer.not_iso"
        assert problem["element_id"] == "Timer_1" and problem["line"]
        assert "PT30S" in problem["message"] and "timedelta(seconds=30)" in problem["message"]


def test_a_number_from_a_timer_expression_stops_the_instance_then_retry_after_fix(api):
    assert api.deploy(("t.bpmn", waiting("pause", "seconds * 1"))).status_code == 201
    instance_id = api.start("pause").get_json()["id"]
    before = api.open_items(instance_id)["before"]

    response = api.complete(before, {"seconds": 30})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "error"
    assert body["data"]["seconds"] == 30  # the user's completion is kept
    error = body["error"]
    assert error["bpmn_id"] == "Timer_1"
    assert error["message"] == (
        "定时器 Timer_1 的表达式结果是 int 30，应为 ISO 8601 时长如 PT30S、datetime 或 timedelta"
    )
    assert api.open_items(instance_id) == {}
    assert api.complete(before, {"seconds": 30}).status_code == 409  # done once, not again

    fixed = waiting("pause", "timedelta(seconds=seconds)")
    assert api.deploy(("t.bpmn", fixed)).get_json()["processes"][0]["version"] == 2
    retried = api.post(f"/api/v1/instances/{instance_id}/retry", {"version": 2}).get_json()
    assert retried["status"] == "running" and retried["error"] is None
    assert retried["next_timer_at"] is not None


def test_the_desk_form_shows_the_case_moved_on_even_when_the_next_timer_fails(app, api, county):
    diagram = laned(
        "pause_desk",
        ("村 窗口受理员", user("accept", "受理登记")),
        ("村 窗口受理员", timer_catch("Timer_1", "int('30')")),
        ("乡镇 审核人", user("township", "乡镇初审")),
    )
    assert api.deploy(("p.bpmn", diagram)).status_code == 201
    instance_id = api.start("pause_desk", {"place": county.code("v11")}).get_json()["id"]
    item_id = api.open_items(instance_id)["accept"]["id"]
    client = signed_in(app, "v11_window_clerk")
    page = client.get(f"/desk/items/{item_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = {"csrf_token": CSRF.search(page).group(1), "version": version, "action": "complete"}

    response = client.post(f"/desk/items/{item_id}", data={**form, "opinion": "材料齐全。"})

    assert response.status_code == 302
    body = api.instance(instance_id)
    assert body["status"] == "error" and body["error"]["bpmn_id"] == "Timer_1"
    assert "int 30" in body["error"]["message"]
    admin = signed_in(app, "admin", "password-admin")
    page = admin.get(f"/designer/instances/{instance_id}")
    assert page.status_code == 200
    assert "int 30" in page.get_data(as_text=True)


def test_a_plain_exception_inside_spiffworkflow_is_an_instance_error(api, rt):
    api.deploy(("t.bpmn", waiting("plain", "PT5M")))
    instance_id = api.start("plain").get_json()["id"]
    with rt.change(instance_id) as change:
        # 3.2 calls .lower() on a timer value: a number raises AttributeError in its code
        assert change.engine(lambda: TimerEventDefinition.parse_iso_duration(30)) is False
    rt.session.commit()
    instance = rt.session.get(m.ProcessInstance, instance_id)
    assert instance.status == m.ERROR
    assert instance.error["detail"].startswith("AttributeError")
    assert "执行出错" in instance.error["message"]


def test_a_bug_of_the_platform_itself_is_not_swallowed(api, rt):
    api.deploy(("t.bpmn", waiting("bug", "PT5M")))
    instance_id = api.start("bug").get_json()["id"]
    with pytest.raises(ZeroDivisionError), rt.change(instance_id) as change:
        change.engine(lambda: 1 / 0)
    rt.session.rollback()
