"""The approval operations through the API, with the platform's checks on who may do them."""

from __future__ import annotations

from sqlalchemy import select

from app.models.cases import CasePause

from ..cases.test_window_pages import AD, JOINT, case_of, first_review, intake, received, window
from ..conftest import api_for


def item_of(app, username: str, instance_id: int, bpmn_id: str) -> dict:
    items = api_for(app, username).get(f"/api/v1/work-items?instance={instance_id}").get_json()
    mine = [i for i in items["work_items"] if i["bpmn_id"] == bpmn_id]
    assert len(mine) == 1, (username, bpmn_id, items)
    return mine[0]


def joint_case(app, session):
    number = received(intake(window(app), session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))
    return number, case_of(session, number).instance_id


def test_return_to_the_window_cancels_the_branches_and_pauses_the_clock(app, shipped, session):
    number, instance_id = joint_case(app, session)
    fire = item_of(app, "xf_reviewer", instance_id, "Task_DeptReview_Fire")
    api = api_for(app, "xf_reviewer")
    targets = api.get(f"/api/v1/work-items/{fire['id']}/return-targets").get_json()["targets"]
    assert [t["bpmn_id"] for t in targets] == ["Task_Accept"]
    outsider = api_for(app, "scj_reviewer")
    denied = outsider.post(
        f"/api/v1/work-items/{fire['id']}/return", json={"target": "Task_Accept", "reason": "x"}
    )
    assert denied.status_code == 403
    no_reason = api.post(f"/api/v1/work-items/{fire['id']}/return", json={"target": "Task_Accept"})
    assert no_reason.status_code == 422
    done = api.post(
        f"/api/v1/work-items/{fire['id']}/return",
        json={
            "target": "Task_Accept",
            "reason": "消防设施图纸缺失，请申请人补正。",
            "version": fire["version"],
        },
    )
    assert done.status_code == 200, done.get_json()
    open_steps = [
        i["bpmn_id"]
        for i in api_for(app, "center_clerk")
        .get(f"/api/v1/work-items?instance={instance_id}")
        .get_json()["work_items"]
    ]
    assert open_steps == ["Task_Accept"]
    pause = session.scalars(select(CasePause)).one()
    assert pause.kind == "correction" and pause.ended_at is None
    assert "消防设施图纸缺失" in window(app).get(f"/cases/{number}").get_data(as_text=True)


def test_transfer_delegate_and_take_back(app, shipped, session):
    _number, instance_id = joint_case(app, session)
    env = item_of(app, "sthj_reviewer", instance_id, "Task_DeptReview_Env")
    reviewer = api_for(app, "sthj_reviewer")
    url = f"/api/v1/work-items/{env['id']}"
    assert reviewer.post(f"{url}/transfer", json={"to": "nobody", "reason": "x"}).status_code == 422
    moved = reviewer.post(f"{url}/transfer", json={"to": "sthj_handler", "reason": "由承办人办理"})
    assert moved.status_code == 200 and moved.get_json()["assignee"] == "sthj_handler"
    assert (
        reviewer.post(
            f"{url}/complete", json={"data": {}, "version": moved.get_json()["version"]}
        ).status_code
        == 403
    )  # no longer theirs

    health = item_of(app, "wjw_reviewer", instance_id, "Task_DeptReview_Health")
    owner = api_for(app, "wjw_reviewer")
    hurl = f"/api/v1/work-items/{health['id']}"
    asked = owner.post(f"{hurl}/delegate", json={"to": "wjw_handler", "reason": "请核实卫生许可"})
    assert asked.status_code == 200
    early = owner.post(
        f"{hurl}/complete",
        json={
            "data": {"decision": "approve", "opinion": "同意"},
            "version": asked.get_json()["version"],
        },
    )
    assert early.status_code == 409  # waiting for the delegate's answer
    assert owner.post(f"{hurl}/delegation", json={"answer": "我来答"}).status_code == 403
    answered = api_for(app, "wjw_handler").post(
        f"{hurl}/delegation", json={"answer": "卫生许可有效。"}
    )
    assert answered.status_code == 200
    finished = owner.post(
        f"{hurl}/complete",
        json={
            "data": {"decision": "approve", "opinion": "同意"},
            "version": answered.get_json()["version"],
        },
    )
    assert finished.status_code == 200, finished.get_json()

    # the health bureau takes its answer back while the join still waits
    back = owner.post(f"{hurl}/take-back", json={"reason": "意见写错"})
    assert back.status_code == 200, back.get_json()
    assert item_of(app, "wjw_reviewer", instance_id, "Task_DeptReview_Health")["status"] == "open"
    stranger = api_for(app, "xf_reviewer").post(f"{hurl}/take-back", json={})
    assert stranger.status_code == 409  # not their step (and it is open again)
    assert stranger.get_json()["error"]["code"] == "operation_refused"


def test_only_the_opener_of_a_cosign_changes_its_signers(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    instance_id = case_of(session, number).instance_id
    first_review(app, session, number, "approve")
    listed = api_for(app, "zjj_handler").get(
        f"/api/v1/instances/{instance_id}/signers?step=Task_Cosign"
    )
    signers = [s["signer"] for s in listed.get_json()["signers"]]
    assert len(signers) == 3
    body = {"step": "Task_Cosign", "signer": signers[1], "reason": "该部门不涉及"}
    assert (
        api_for(app, "scj_reviewer")
        .delete(f"/api/v1/instances/{instance_id}/signers", json=body)
        .status_code
        == 403
    )
    removed = api_for(app, "zjj_handler").delete(
        f"/api/v1/instances/{instance_id}/signers", json=body
    )
    assert removed.status_code == 200, removed.get_json()
    listed = api_for(app, "zjj_handler").get(
        f"/api/v1/instances/{instance_id}/signers?step=Task_Cosign"
    )
    remaining = [s["signer"] for s in listed.get_json()["signers"] if s["status"] != "cancelled"]
    assert signers[1] not in remaining and len(remaining) == 2


def test_a_second_claimer_is_told_who_holds_the_item(app, shipped, session):
    """Work routed to A that A's B角 has claimed: A gets 409 naming the holder, not 403."""
    from app.models.auth import User
    from app.org.services import start_leave

    _number, instance_id = joint_case(app, session)
    reviewer = session.scalars(select(User).where(User.username == "xf_reviewer")).one()
    handler = session.scalars(select(User).where(User.username == "xf_handler")).one()
    start_leave(session, reviewer, handler, None, "年假", created_by="xf_reviewer")
    fire = item_of(app, "xf_handler", instance_id, "Task_DeptReview_Fire")
    url = f"/api/v1/work-items/{fire['id']}"
    assert api_for(app, "xf_handler").post(f"{url}/claim").status_code == 200

    decision = {"decision": "approve", "opinion": "同意"}
    for attempt in ("claim", "complete"):
        answer = api_for(app, "xf_reviewer").post(
            f"{url}/{attempt}", json={"data": decision, "version": fire["version"] + 1}
        )
        assert answer.status_code == 409, answer.get_json()
        assert answer.get_json()["error"]["code"] == "work_item_conflict"
        assert "xf_handler" in answer.get_json()["error"]["message"]
    stranger = api_for(app, "sthj_reviewer").post(f"{url}/claim")
    assert stranger.status_code == 403  # never routed to them
