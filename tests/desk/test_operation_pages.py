"""退回, 转办, 委派 and 撤回 from the task page and the 已办 list, as the reviewers click them."""

from __future__ import annotations

import re

from ..cases.test_window_pages import AD, FOOD, JOINT, case_of, do, intake, received, window
from ..conftest import CSRF


def desk_rows(client, path: str = "/desk/") -> list[tuple[str, str]]:
    html = client.get(path).get_data(as_text=True)
    return re.findall(r'data-item="(\d+)" data-bpmn="(\w+)"', html)


def item_id(client, bpmn_id: str) -> str:
    rows = [i for i, b in desk_rows(client) if b == bpmn_id]
    assert len(rows) == 1, desk_rows(client)
    return rows[0]


def post_from_task(client, item: str, action: str, data: dict):
    page = client.get(f"/desk/items/{item}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    form = {"csrf_token": CSRF.search(page).group(1), "version": version, **data}
    response = client.post(f"/desk/items/{item}/{action}", data=form)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def joint_case(app, session) -> str:
    return received(intake(window(app), session, "SCJ-GZJJCS-LHSC", "accept", extra=JOINT))


def test_delegate_then_answer_then_the_owner_completes(app, shipped, session):
    number = joint_case(app, session)
    owner = window(app, "wjw_reviewer")
    item = item_id(owner, "Task_DeptReview_Health")
    page = owner.get(f"/desk/items/{item}").get_data(as_text=True)
    assert 'id="task-operations"' in page and 'id="delegate-form"' in page
    refused = post_from_task(owner, item, "delegate", {"to": "wjw_handler", "reason": ""})
    assert "委派必须填写理由。" in refused
    page = post_from_task(
        owner, item, "delegate", {"to": "wjw_handler", "reason": "请核实卫生许可"}
    )
    assert 'id="delegation-waiting"' in page and 'id="task-form"' not in page

    delegate = window(app, "wjw_handler")
    assert item_id(delegate, "Task_DeptReview_Health") == item  # in the delegate's 待办
    # shown as a delegation by people's names, never as a claim or by login names
    waiting = delegate.get("/desk/").get_data(as_text=True)
    assert re.search(r'data-state="delegated">\S+ 委派我提意见<', waiting)
    assert "wjw_reviewer" not in waiting and "认领" not in waiting.split('id="worklist"')[1]
    page = delegate.get(f"/desk/items/{item}").get_data(as_text=True)
    assert 'id="answer-form"' in page and 'id="task-form"' not in page
    post_from_task(delegate, item, "delegation", {"answer": "卫生许可证在有效期内。"})
    assert item not in [i for i, _b in desk_rows(delegate)]

    page = owner.get(f"/desk/items/{item}").get_data(as_text=True)
    assert "卫生许可证在有效期内。" in page and 'id="task-form"' in page
    do(
        app,
        session,
        "wjw_reviewer",
        number,
        "Task_DeptReview_Health",
        {"decision": "approve", "opinion": "同意"},
    )


def test_take_back_from_done_and_return_to_the_window(app, shipped, session):
    number = joint_case(app, session)
    do(
        app,
        session,
        "xf_reviewer",
        number,
        "Task_DeptReview_Fire",
        {"decision": "approve", "opinion": "同意"},
    )
    fire = window(app, "xf_reviewer")
    done = fire.get("/desk/done").get_data(as_text=True)
    assert "撤回" in done
    item = desk_rows(fire, "/desk/done")[0][0]
    form = {"csrf_token": CSRF.search(done).group(1)}
    back = fire.post(f"/desk/items/{item}/take-back", data=form)
    assert "已撤回" in fire.get(back.headers["Location"]).get_data(as_text=True)
    assert [b for _i, b in desk_rows(fire)] == ["Task_DeptReview_Fire"]

    env = window(app, "sthj_reviewer")
    item = item_id(env, "Task_DeptReview_Env")
    page = env.get(f"/desk/items/{item}").get_data(as_text=True)
    assert '<option value="Task_Accept">受理</option>' in page
    page = post_from_task(
        env, item, "return", {"target": "Task_Accept", "reason": "请补充环评登记表。"}
    )
    assert "已退回" in page
    clerk = window(app)
    assert [b for _i, b in desk_rows(clerk)] == ["Task_Accept"]
    # the window is told who sent it back and why, on the row and on the task
    worklist = clerk.get("/desk/").get_data(as_text=True)
    assert 'data-flag="returned"' in worklist and "请补充环评登记表。" in worklist
    returned = clerk.get(f"/desk/items/{desk_rows(clerk)[0][0]}").get_data(as_text=True)
    banner = re.search(r'id="returned-banner".*?</div>', returned, re.S).group(0)
    assert "请补充环评登记表。" in banner and "环保审查" in banner and "sthj_reviewer" not in banner
    assert "请补充环评登记表。" in clerk.get(f"/cases/{number}").get_data(as_text=True)
    assert case_of(session, number).status in ("accepted", "processing")


def test_transfer_hands_the_step_over(app, shipped, session):
    joint_case(app, session)
    env = window(app, "sthj_reviewer")
    item = item_id(env, "Task_DeptReview_Env")
    page = env.get(f"/desk/items/{item}").get_data(as_text=True)
    suggested = re.findall(
        r'<option value="(\w+)">', page.split('id="handover-list"')[1].split("</datalist>")[0]
    )
    assert "sthj_handler" in suggested and "sthj_reviewer" not in suggested
    assert all(name.startswith("sthj_") for name in suggested)  # the department's own people
    page = post_from_task(env, item, "transfer", {"to": "sthj_handler", "reason": "由承办人审查"})
    assert "已转办给 sthj_handler" in page
    assert item not in [i for i, _b in desk_rows(env)]
    assert item_id(window(app, "sthj_handler"), "Task_DeptReview_Env") == item


def test_the_opener_of_a_cosign_removes_and_adds_signers_on_the_case_page(app, shipped, session):
    ad = AD
    number = received(intake(window(app), session, "ZJJ-HWGG-SZSP", "accept", extra=ad))
    do(
        app,
        session,
        "zjj_handler",
        number,
        "Task_FirstReview",
        {"decision": "approve", "opinion": "同意"},
    )
    handler = window(app, "zjj_handler")
    page = handler.get(f"/cases/{number}").get_data(as_text=True)
    assert 'id="cosign-Task_Cosign"' in page
    signers = re.findall(r'data-signer="([^"]+)"', page)
    assert len(signers) == 3
    assert 'id="cosign-Task_Cosign"' not in window(app, "scj_reviewer").get(
        f"/cases/{number}"
    ).get_data(as_text=True)

    def change(data):
        html = handler.get(f"/cases/{number}").get_data(as_text=True)
        response = handler.post(
            f"/desk/cases/{number}/signers",
            data={"csrf_token": CSRF.search(html).group(1), "step": "Task_Cosign", **data},
        )
        return handler.get(response.headers["Location"]).get_data(as_text=True)

    assert "减签必须填写理由" in change({"change": "remove", "signer": signers[1], "reason": ""})
    html = change({"change": "remove", "signer": signers[1], "reason": "不涉及该部门"})
    assert "已减签" in html
    statuses = dict(
        re.findall(r'data-signer="([^"]+)">\s*<span>[^<]*<span class="text-muted">（(\S+?)）', html)
    )
    assert statuses.get(signers[1]) in (None, "已取消")
    assert list(statuses.values()).count("待签") == 2


def test_a_reviewer_keeps_their_own_common_opinions(app, shipped, session):
    joint_case(app, session)
    env = window(app, "sthj_reviewer")
    item = item_id(env, "Task_DeptReview_Env")
    page = env.get(f"/desk/items/{item}").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    url = f"/desk/items/{item}/phrases"
    answer = env.post(
        url,
        data={"csrf_token": token, "phrase": "环评手续齐全，同意。"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer["ok"] and answer["message"] == "已保存为常用意见。"
    again = env.post(
        url,
        data={"csrf_token": token, "phrase": "环评手续齐全，同意。"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert not again["ok"] and "已有" in again["message"]
    page = env.get(f"/desk/items/{item}").get_data(as_text=True)
    assert 'data-phrase="环评手续齐全，同意。"' in page
    # somebody else does not get them
    fire = window(app, "xf_reviewer")
    other = fire.get(f"/desk/items/{item_id(fire, 'Task_DeptReview_Fire')}").get_data(as_text=True)
    assert "环评手续齐全" not in other
    phrase_id = re.search(r'data-my-phrase="(\d+)"', page).group(1)
    env.post(f"{url}/{phrase_id}/delete", data={"csrf_token": token})
    assert "环评手续齐全" not in env.get(f"/desk/items/{item}").get_data(as_text=True)


def test_take_back_is_offered_only_while_it_can_work(app, shipped, session):
    """撤回 shows in 已办 while the next step is untouched, and goes once it is claimed."""
    number = received(intake(window(app), session, "SCJ-SPXZF-DJ", "accept", extra=FOOD))
    handler = window(app, "scj_spg_handler")
    handle = {"site_check": "pass", "check_date": "2026-11-23", "decision": "approve"}
    do(app, session, "scj_spg_handler", number, "Task_Handle", {**handle, "opinion": "符合条件"})

    def offered() -> bool:
        return "/take-back" in handler.get("/desk/done").get_data(as_text=True)

    assert offered()
    reviewer = window(app, "scj_spg_reviewer")
    claim = reviewer.get("/desk/").get_data(as_text=True)
    item = re.search(r'action="/desk/items/(\d+)/claim"', claim).group(1)
    version = re.search(rf'/desk/items/{item}/claim".*?name="version" value="(\d+)"', claim, re.S)
    reviewer.post(
        f"/desk/items/{item}/claim",
        data={"csrf_token": CSRF.search(claim).group(1), "version": version.group(1)},
    )
    assert not offered()
    assert case_of(session, number).status == "processing"
