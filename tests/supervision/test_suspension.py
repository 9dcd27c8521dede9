"""挂起: a suspended case's work refuses every change people make, on the API and the pages.

The runtime asks the platform's guard before each change (claim, release, complete,
退回, 撤回, 转办, 委派 and its answer, 加签/减签); nothing of the case moves until
the supervisor resumes it.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models.cases import Case
from workflows import models as wm

from ..api.test_operations_api import item_of
from ..cases.test_window_pages import AD, JOINT, case_of, first_review, intake, received, window
from ..conftest import CSRF, DEMO_PASSWORD, api_for, signed_in


def suspend(app, number: str, change: str = "suspend") -> str:
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    page = inspector.get(f"/cases/{number}").get_data(as_text=True)
    data = {"change": change, "reason": "申请人涉诉，等待法院裁定", "note": "裁定已出"}
    response = inspector.post(
        f"/supervision/cases/{number}/suspend",
        data={"csrf_token": CSRF.search(page).group(1), **data},
    )
    return inspector.get(response.headers["Location"]).get_data(as_text=True)


def snapshot(session, number: str) -> tuple:
    """What a refused change must leave as it was: the instance and every work item."""
    session.expire_all()
    case = session.scalars(select(Case).where(Case.number == number)).one()
    items = session.scalars(
        select(wm.WorkItem).where(wm.WorkItem.instance_id == case.instance_id)
    ).all()
    return (
        case.instance.revision,
        case.status,
        sorted((i.id, i.status, i.assignee, i.version, i.delegation) for i in items),
    )


def refused(response) -> None:
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "case_suspended"
    assert "挂起" in response.get_json()["error"]["message"]


def joint_case_in_every_state(app, session) -> tuple[str, dict]:
    """A 联办件 whose health review is done, environment review claimed and fire review
    delegated: something for every operation to try."""
    number = received(intake(window(app), session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    instance_id = case_of(session, number).instance_id
    health = item_of(app, "wjw_reviewer", instance_id, "Task_DeptReview_Health")
    done = api_for(app, "wjw_reviewer").post(
        f"/api/v1/work-items/{health['id']}/complete",
        json={"data": {"decision": "approve", "opinion": "同意"}, "version": health["version"]},
    )
    assert done.status_code == 200, done.get_json()
    env = item_of(app, "sthj_reviewer", instance_id, "Task_DeptReview_Env")
    claimed = api_for(app, "sthj_reviewer").post(f"/api/v1/work-items/{env['id']}/claim")
    assert claimed.status_code == 200
    fire = item_of(app, "xf_reviewer", instance_id, "Task_DeptReview_Fire")
    asked = api_for(app, "xf_reviewer").post(
        f"/api/v1/work-items/{fire['id']}/delegate", json={"to": "xf_handler", "reason": "请核实"}
    )
    assert asked.status_code == 200
    items = {
        "health": health["id"],
        "env": env["id"],
        "env_version": claimed.get_json()["version"],
        "fire": fire["id"],
    }
    return number, items


def test_a_suspended_case_refuses_every_change_through_the_api(app, shipped, session):
    number, items = joint_case_in_every_state(app, session)
    assert "已挂起" in suspend(app, number)
    before = snapshot(session, number)

    env = api_for(app, "sthj_reviewer")
    url = f"/api/v1/work-items/{items['env']}"
    version = items["env_version"]
    refused(env.post(f"{url}/release", json={"version": version}))
    refused(env.post(f"{url}/complete", json={"data": {"decision": "approve"}, "version": version}))
    refused(env.post(f"{url}/return", json={"target": "Task_Accept", "reason": "补正"}))
    refused(env.post(f"{url}/transfer", json={"to": "sthj_handler", "reason": "由承办人办理"}))
    refused(env.post(f"{url}/delegate", json={"to": "sthj_handler", "reason": "请核实"}))
    refused(
        api_for(app, "xf_handler").post(
            f"/api/v1/work-items/{items['fire']}/delegation", json={"answer": "属实"}
        )
    )
    refused(
        api_for(app, "wjw_reviewer").post(
            f"/api/v1/work-items/{items['health']}/take-back", json={"reason": "写错"}
        )
    )
    refused(api_for(app, "xf_handler").post(f"/api/v1/work-items/{items['fire']}/claim"))
    assert snapshot(session, number) == before

    suspend(app, number, "resume")
    assert env.post(f"{url}/release", json={"version": version}).status_code == 200


def test_a_suspended_case_refuses_every_change_through_the_pages(app, shipped, session):
    number, items = joint_case_in_every_state(app, session)
    suspend(app, number)
    before = snapshot(session, number)

    def post(username: str, path: str, data: dict, to: str) -> None:
        client = window(app, username)
        token = CSRF.search(client.get("/desk/").get_data(as_text=True)).group(1)
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 302, (path, response.status_code)
        assert response.headers["Location"].endswith(to), (path, response.headers["Location"])
        assert "办件已被挂起" in client.get(response.headers["Location"]).get_data(as_text=True)

    env, version = f"/desk/items/{items['env']}", str(items["env_version"])
    post("sthj_reviewer", f"{env}/release", {"version": version}, "/desk/")
    post("sthj_reviewer", f"{env}/return", {"target": "Task_Accept", "reason": "补正"}, env)
    post("sthj_reviewer", f"{env}/transfer", {"to": "sthj_handler", "reason": "转"}, env)
    post("sthj_reviewer", f"{env}/delegate", {"to": "sthj_handler", "reason": "委"}, env)
    fire = f"/desk/items/{items['fire']}"
    post("xf_handler", f"{fire}/delegation", {"answer": "属实"}, fire)
    post("xf_handler", f"{fire}/claim", {}, "/desk/")
    health = f"/desk/items/{items['health']}"
    post("wjw_reviewer", f"{health}/take-back", {"reason": "写错"}, "/desk/done")

    client = window(app, "sthj_reviewer")
    # told before typing: a banner on the task, a flag on the worklist row
    page = client.get(env).get_data(as_text=True)
    assert 'id="suspended-banner"' in page and "挂起" in page
    row = re.search(
        rf'<tr data-item="{items["env"]}".*?</tr>',
        client.get("/desk/").get_data(as_text=True),
        re.S,
    )
    assert 'data-flag="suspended"' in row.group(0)
    submitted = client.post(
        env,
        data={
            "csrf_token": CSRF.search(page).group(1),
            "version": version,
            "action": "complete",
            "decision": "approve",
            "opinion": "同意",
        },
    )
    assert submitted.status_code == 409 and "挂起" in submitted.get_data(as_text=True)
    assert snapshot(session, number) == before


def test_a_suspended_case_keeps_its_signers(app, shipped, session):
    number = received(intake(window(app), session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    first_review(app, session, number, "approve")
    instance_id = case_of(session, number).instance_id
    opener = api_for(app, "zjj_handler")
    signers = opener.get(f"/api/v1/instances/{instance_id}/signers?step=Task_Cosign").get_json()
    suspend(app, number)
    before = snapshot(session, number)
    body = {"step": "Task_Cosign", "signer": signers["signers"][1]["signer"], "reason": "不涉及"}
    refused(opener.delete(f"/api/v1/instances/{instance_id}/signers", json=body))
    refused(opener.post(f"/api/v1/instances/{instance_id}/signers", json=body))

    client = window(app, "zjj_handler")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    response = client.post(
        f"/desk/cases/{number}/signers",
        data={"csrf_token": CSRF.search(page).group(1), "change": "remove", **body},
    )
    assert "办件已被挂起" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert snapshot(session, number) == before
