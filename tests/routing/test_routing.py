"""Work lands only with the right people: by level, department, section and role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import center_clock
from app.models.org import AssignmentRules, Backup
from workflows import models as wm
from workflows.calendar import WorkCalendar
from workflows.timeutil import utcnow

from ..conftest import api_for
from ..diagrams import laned, user

REPORT_UP = laned(
    "report_up",
    ("村 窗口受理员", user("accept", "受理登记")),
    ("乡镇 审核人", user("township", "乡镇初审")),
    ("县 自然资源局/矿产资源股 审核人", user("county_review", "县级审查")),
    ("市 自然资源和规划局/矿产资源管理科 审核人", user("city_review", "市级审批")),
    ("村 窗口受理员", user("deliver", "结果送达")),
)
STEPS = [
    ("accept", "{v}_window_clerk"),
    ("township", "{t}_reviewer"),
    ("county_review", "zrzy_kc_reviewer"),
    ("city_review", "city_zrzy_kc_reviewer"),
    ("deliver", "{v}_window_clerk"),
]
EVERYONE_WHO_MIGHT = [
    "v11_window_clerk",
    "v12_window_clerk",
    "v21_window_clerk",
    "t1_reviewer",
    "t2_reviewer",
    "t1_handler",
    "zrzy_kc_reviewer",
    "zrzy_kc_handler",
    "city_zrzy_kc_reviewer",
    "scj_reviewer",
]


def my_items(app, username: str) -> list[dict]:
    response = api_for(app, username).get("/api/v1/work-items")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["work_items"]


def holders_of(app, bpmn_id: str, instance_id: int) -> set[str]:
    return {
        name
        for name in EVERYONE_WHO_MIGHT
        if any(
            i["bpmn_id"] == bpmn_id and i["instance"] == instance_id for i in my_items(app, name)
        )
    }


def test_report_up_lands_with_the_right_level_for_two_villages(app, api, county):
    assert api.deploy(("report_up.bpmn", REPORT_UP)).status_code == 201
    for village, township in (("v11", "t1"), ("v21", "t2")):
        instance_id = api.start("report_up", {"place": county.code(village)}).get_json()["id"]
        for bpmn_id, who in STEPS:
            expected = who.format(v=village, t=township)
            assert holders_of(app, bpmn_id, instance_id) == {expected}, bpmn_id
            actor = api_for(app, expected)
            item = next(i for i in my_items(app, expected) if i["instance"] == instance_id)
            response = actor.complete(item, {"step": bpmn_id})
            assert response.status_code == 200, response.get_json()
        assert api.instance(instance_id)["status"] == "completed"


def test_the_wrong_person_cannot_take_or_complete_the_work(app, api, county):
    api.deploy(("report_up.bpmn", REPORT_UP))
    instance_id = api.start("report_up", {"place": county.code("v11")}).get_json()["id"]
    item = api.open_items(instance_id)["accept"]
    outsider = api_for(app, "v12_window_clerk")
    assert outsider.complete(item).status_code == 403
    assert outsider.post(f"/api/v1/work-items/{item['id']}/claim").status_code == 403
    assert outsider.get(f"/api/v1/instances/{instance_id}").status_code == 403
    owner = api_for(app, "v11_window_clerk")
    assert owner.get(f"/api/v1/instances/{instance_id}").status_code == 200
    assert owner.complete(item).status_code == 200


def test_backup_receives_new_work_and_sees_open_work_while_the_holder_is_away(
    app, api, county, session
):
    api.deploy(("report_up.bpmn", REPORT_UP))
    first = api.start("report_up", {"place": county.code("v11")}).get_json()["id"]
    api_for(app, "v11_window_clerk").complete(api.open_items(first)["accept"])
    assert holders_of(app, "township", first) == {"t1_reviewer"}

    holder, backup = county.users["t1_reviewer"], county.users["t1_handler"]
    session.add(
        Backup(holder_id=holder.id, backup_id=backup.id, valid_from=utcnow(), reason="年假")
    )
    session.commit()
    assert holders_of(app, "township", first) == {"t1_reviewer", "t1_handler"}  # open work

    second = api.start("report_up", {"place": county.code("v12")}).get_json()["id"]
    api_for(app, "v12_window_clerk").complete(api.open_items(second)["accept"])
    assert holders_of(app, "township", second) == {"t1_reviewer", "t1_handler"}  # new work

    item = next(i for i in my_items(app, "t1_handler") if i["instance"] == second)
    assert api_for(app, "t1_handler").complete(item, {"opinion": "同意"}).status_code == 200
    done = next(
        e
        for e in api.instance(second)["history"]
        if e["bpmn_id"] == "township" and e["kind"] == "task_completed"
    )
    assert (done["actor"], done["on_behalf_of"]) == ("t1_handler", "t1_reviewer")

    row = session.query(Backup).one()
    row.valid_to = utcnow() - timedelta(seconds=1)
    session.commit()
    assert holders_of(app, "township", first) == {"t1_reviewer"}  # back from leave


def test_nobody_resolvable_goes_to_the_department_leader_and_is_recorded(app, api, county):
    nobody = laned("nobody", ("县 市场监督管理局/审批股 分管领导", user("sign", "签批")))
    api.deploy(("nobody.bpmn", nobody))
    instance_id = api.start("nobody", {"place": county.code("v11")}).get_json()["id"]
    assert my_items(app, "scj_chief_leader")[0]["bpmn_id"] == "sign"
    history = api.instance(instance_id)["history"]
    rule = next(e for e in history if e["kind"] == "routing_rule")
    assert "负责人" in rule["message"]


def test_initiator_and_same_person_rules(app, api, county, session):
    twice = laned(
        "twice",
        ("乡镇 窗口受理员", user("accept", "受理")),
        ("乡镇 窗口受理员", user("check", "复核")),
        ("乡镇 审核人", user("review", "审核")),
    )
    api.deploy(("twice.bpmn", twice))
    session.add(
        AssignmentRules(process_id="twice", when_initiator="allow", when_same_as_previous="skip")
    )
    session.commit()
    clerk = api_for(app, "t1_window_clerk")
    instance_id = clerk.start("twice", {"place": county.code("t1")}).get_json()["id"]
    accept = clerk.open_items(instance_id)["accept"]
    body = clerk.complete(accept, {"x": 1}).get_json()
    assert [i["bpmn_id"] for i in body["work_items"]] == ["review"]  # 复核 skipped: same person
    kinds = [(e["kind"], e["bpmn_id"]) for e in api.instance(instance_id)["history"]]
    assert ("auto_completed", "check") in kinds
    assert ("routing_rule", "check") in kinds

    session.query(AssignmentRules).filter_by(process_id="twice").one().when_initiator = "leader"
    session.commit()
    second = clerk.start("twice", {"place": county.code("t1")}).get_json()["id"]
    items = api.open_items(second)
    assert list(items) == ["accept"]
    assert my_items(app, "t1_chief_leader")[0]["instance"] == second
    assert not [i for i in my_items(app, "t1_window_clerk") if i["instance"] == second]


def test_a_missing_case_variable_is_reported_not_lost(app, api, county):
    lead = laned("lead", ("牵头部门", user("summary", "汇总")))
    lead = lead.replace(
        b'<bpmn:userTask id="summary" name="\xe6\xb1\x87\xe6\x80\xbb">',
        b'<bpmn:userTask id="summary" name="\xe6\xb1\x87\xe6\x80\xbb"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="department" value="${lead_department}"/>'
        b'<spiffworkflow:property name="role" value="reviewer"/></spiffworkflow:properties></bpmn:extensionElements>',
    )
    api.deploy(("lead.bpmn", lead))
    routed = api.start(
        "lead", {"place": county.code("v11"), "lead_department": "市场监督管理局"}
    ).get_json()
    assert my_items(app, "scj_reviewer")[0]["instance"] == routed["id"]
    missing = api.start("lead", {"place": county.code("v11")}).get_json()
    rule = next(e for e in api.instance(missing["id"])["history"] if e["kind"] == "routing_rule")
    assert "lead_department" in rule["message"]


def test_joint_review_copies_three_departments_and_returns_to_the_lead(app, api, county):
    from ..conftest import SHIPPED, bundle
    from ..workflows.test_joint_review import ACCEPT

    assert api.deploy(*bundle(SHIPPED / "joint_review")).status_code == 201
    data = {"place": county.code("v11"), "lead_department": "市场监督管理局"}
    instance_id = api.start("joint_review", data).get_json()["id"]

    def only(username, bpmn_id, form):
        mine = [i for i in my_items(app, username) if i["instance"] == instance_id]
        assert [i["bpmn_id"] for i in mine] == [bpmn_id], (username, mine)
        response = api_for(app, username).complete(mine[0], form)
        assert response.status_code == 200, response.get_json()

    only("center_window_clerk", "Task_Accept", ACCEPT)
    for username in ("scj_reviewer", "v11_window_clerk", "t1_reviewer"):
        assert not [i for i in my_items(app, username) if i["instance"] == instance_id]
    review = {"decision": "approve", "opinion": "同意"}
    only("fire_reviewer", "Task_DeptReview_Fire", review)
    only("env_reviewer", "Task_DeptReview_Env", review)
    only("health_reviewer", "Task_DeptReview_Health", review)
    only("scj_reviewer", "Task_LeadSummary", review)
    only("scj_deputy_leader", "Task_LeaderSign", {**review, "sign_date": "2026-11-25"})
    assert api.instance(instance_id)["status"] == "completed"


def test_multi_instance_routes_each_instance_to_its_department(app, api, county):
    signers = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        b'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">'
        b'<bpmn:process id="countersign" isExecutable="true"><bpmn:startEvent id="start"/>'
        b'<bpmn:userTask id="sign" name="\xe4\xbc\x9a\xe7\xad\xbe"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="department" value="${dept}"/>'
        b'<spiffworkflow:property name="role" value="reviewer"/></spiffworkflow:properties></bpmn:extensionElements>'
        b"<bpmn:multiInstanceLoopCharacteristics>"
        b'<bpmn:loopDataInputRef>depts</bpmn:loopDataInputRef><bpmn:inputDataItem id="dept" name="dept"/>'
        b"</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        b'<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign"/>'
        b'<bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="end"/></bpmn:process></bpmn:definitions>'
    )
    assert api.deploy(("countersign.bpmn", signers)).status_code == 201
    depts = ["消防救援大队", "生态环境分局", "卫生健康委员会"]
    instance_id = api.start(
        "countersign", {"place": county.code("v11"), "depts": depts}
    ).get_json()["id"]
    for username in ("fire_reviewer", "env_reviewer", "health_reviewer"):
        mine = [i for i in my_items(app, username) if i["instance"] == instance_id]
        assert len(mine) == 1, username
        assert api_for(app, username).complete(mine[0], {"opinion": "同意"}).status_code == 200
    assert api.instance(instance_id)["status"] == "completed"


def test_supervisors_see_routing_decisions_of_their_region(app, api, county):
    import re

    nobody = laned("nobody", ("县 市场监督管理局/审批股 分管领导", user("sign", "签批")))
    api.deploy(("nobody.bpmn", nobody))
    api.start("nobody", {"place": county.code("v11")})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={
            "username": "center_inspector",
            "password": "pw-center_inspector",
            "csrf_token": token,
        },
    )
    html = client.get("/supervision/").get_data(as_text=True)
    assert "转部门负责人办理" in html
    assert "签批" in html


def test_a_person_takes_leave_and_returns_by_themselves(app, api, county):
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={"username": "t1_reviewer", "password": "pw-t1_reviewer", "csrf_token": token},
    )
    page = client.get("/account/leave").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    unknown = client.post("/account/leave", data={"backup": "ghost", "csrf_token": token})
    assert unknown.status_code == 400 and "没有这个用户" in unknown.get_data(as_text=True)
    done = client.post(
        "/account/leave",
        data={"backup": "t1_handler", "reason": "探亲", "csrf_token": token},
        follow_redirects=True,
    )
    assert "已请假" in done.get_data(as_text=True)

    api.deploy(("report_up.bpmn", REPORT_UP))
    instance_id = api.start("report_up", {"place": county.code("v11")}).get_json()["id"]
    api_for(app, "v11_window_clerk").complete(api.open_items(instance_id)["accept"])
    assert holders_of(app, "township", instance_id) == {"t1_reviewer", "t1_handler"}

    back = client.post("/account/leave/end", data={"csrf_token": token}, follow_redirects=True)
    assert "已销假" in back.get_data(as_text=True)
    assert holders_of(app, "township", instance_id) == {"t1_reviewer"}


def test_a_backup_limited_to_another_process_or_department_does_not_apply(
    app, api, county, session
):
    api.deploy(("report_up.bpmn", REPORT_UP))
    instance_id = api.start("report_up", {"place": county.code("v11")}).get_json()["id"]
    api_for(app, "v11_window_clerk").complete(api.open_items(instance_id)["accept"])
    holder, backup = county.users["t1_reviewer"], county.users["t1_handler"]
    session.add(
        Backup(
            holder_id=holder.id, backup_id=backup.id, process_id="other_item", valid_from=utcnow()
        )
    )
    session.add(
        Backup(
            holder_id=holder.id,
            backup_id=county.users["t2_reviewer"].id,
            department_id=county.departments["scj"].id,
            valid_from=utcnow(),
        )
    )
    session.commit()
    assert holders_of(app, "township", instance_id) == {"t1_reviewer"}
    session.add(
        Backup(
            holder_id=holder.id,
            backup_id=county.users["t2_reviewer"].id,
            department_id=county.departments["t1"].id,
            valid_from=utcnow(),
        )
    )
    session.commit()
    assert holders_of(app, "township", instance_id) == {"t1_reviewer", "t2_reviewer"}


LIMITED = laned(
    "limited",
    ("村 窗口受理员", user("accept", "受理登记")),
    ("乡镇 审核人", user("check", "乡镇核实", {"limit_hours": "4"})),
    ("乡镇 审核人", user("sign", "乡镇签批", {"limit_days": "2"})),
)


def step_row(session, instance_id: int, bpmn_id: str) -> wm.WorkItem:
    session.expire_all()
    return session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id == instance_id, wm.WorkItem.bpmn_id == bpmn_id
        )
    ).one()


@pytest.mark.moments
def test_a_step_is_due_exactly_from_the_moment_it_opened(app, api, county, session, moment):
    assert api.deploy(("limited.bpmn", LIMITED)).status_code == 201
    instance_id = api.start("limited", {"place": county.code("v11")}).get_json()["id"]
    clerk, reviewer = api_for(app, "v11_window_clerk"), api_for(app, "t1_reviewer")
    assert clerk.complete(api.open_items(instance_id)["accept"]).status_code == 200
    check = step_row(session, instance_id, "check")
    calendar = WorkCalendar()
    with app.app_context():
        clock = center_clock()
        assert abs(check.created_at - clock.from_local(moment)) < timedelta(minutes=1)
        # 4 hours counted on working days only, from the very moment it opened
        assert check.due_at == clock.step_due(check.created_at, hours=4)
        assert clock.working_hours_between(check.created_at, check.due_at) == 4
        assert calendar.is_workday(clock.day_of(check.due_at))
    assert reviewer.complete(api.open_items(instance_id)["check"]).status_code == 200
    sign = step_row(session, instance_id, "sign")
    with app.app_context():
        clock = center_clock()
        # 2 working days: the end of the second working day after the day it arrived
        assert sign.due_at == clock.step_due(sign.created_at, days=2)
        arrived = calendar.next_workday(clock.day_of(sign.created_at))
        assert sign.due_at == clock.end_of_day(calendar.add_workdays(arrived, 2))
