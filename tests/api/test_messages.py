"""Other systems tell waiting cases that something happened: POST /messages and /signals."""

from __future__ import annotations

import pytest

from app.models.items import Item, ItemMaterial

from ..conftest import DIAGRAMS, api_for, signed_in
from ..diagrams import laned, user


@pytest.fixture
def waiting(api, county) -> int:
    """A 青山县 case (东关村) past its review, waiting for 缴费完成 with its case number."""
    assert api.deploy(DIAGRAMS / "message_waits.bpmn").status_code == 201
    response = api.start("fee_wait", {"case_number": "Q-001", "place": county.code("v11")})
    instance_id = response.get_json()["id"]
    assert api.complete(api.open_items(instance_id)["review"]).status_code == 200
    return instance_id


def paid(**changes) -> dict:
    body = {
        "message_id": "pay-0001",
        "name": "缴费完成",
        "correlation": {"case_number": "Q-001"},
        "data": {"paid_amount": 120},
    }
    return {**body, **changes}


def test_a_case_waiting_for_payment_completes_after_the_payment_message(app, api, waiting):
    before = api.instance(waiting)
    assert [w["label"] for w in before["waits"]] == ["等待消息：缴费完成（办件编号 Q-001）"]

    payer = api_for(app, "bigdata_admin")  # the county's system administrator post
    response = payer.post("/api/v1/messages", paid())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["received"] == [waiting]
    again = payer.post("/api/v1/messages", paid())
    assert (again.status_code, again.get_json()["repeated"]) == (200, True)

    body = api.instance(waiting)
    assert body["waits"] == []
    assert body["data"]["paid_amount"] == 120
    assert api.complete(api.open_items(waiting)["issue"]).status_code == 200
    assert api.instance(waiting)["status"] == "completed"


def test_only_the_places_system_administrators_may_send(app, client, api, waiting, neighbour):
    assert client.post("/api/v1/messages", json=paid()).status_code == 401
    clerk = api_for(app, "v11_window_clerk")
    assert clerk.post("/api/v1/messages", json=paid()).status_code == 403
    other = api_for(app, "bs_bigdata_admin")  # 白水县's administrator
    response = other.post("/api/v1/messages", paid())
    assert response.status_code == 403
    assert "不在您管理的区域" in response.get_json()["error"]["message"]
    assert other.post("/api/v1/signals", {"signal_id": "s1", "name": "政策调整"}).status_code == 404
    assert api.instance(waiting)["waits"] != []  # nothing was delivered


def test_bad_messages_are_refused_with_a_reason_and_change_nothing(api, waiting):
    cases = [
        (paid(extra=1), 400, "不认识的字段"),
        (paid(name=""), 400, "name"),
        ({k: v for k, v in paid().items() if k != "message_id"}, 400, "message_id"),
        (paid(correlation="Q-001"), 400, "correlation"),
        (paid(data={"case_number": "X"}), 422, "平台填写"),
        (paid(data={"result": "approve"}), 422, "平台填写"),
        (paid(correlation={"case_number": "Q-999"}), 404, "没有办件在等待消息"),
    ]
    for body, status, words in cases:
        response = api.post("/api/v1/messages", body)
        assert response.status_code == status, (body, response.get_json())
        assert words in str(response.get_json()["error"]), response.get_json()
    reused = api.post("/api/v1/messages", paid(message_id="pay-x"))
    assert reused.status_code == 200
    conflict = api.post("/api/v1/messages", paid(message_id="pay-x", data={"paid_amount": 1}))
    assert (conflict.status_code, conflict.get_json()["error"]["code"]) == (
        409,
        "message_id_reused",
    )


def test_a_terminated_case_refuses_its_message(api, waiting):
    assert api.post(f"/api/v1/instances/{waiting}/terminate", {"reason": "撤件"}).status_code == 200
    assert api.instance(waiting)["waits"] == []
    response = api.post("/api/v1/messages", paid())
    assert response.status_code == 409
    assert "终止" in response.get_json()["error"]["message"]


def test_a_message_starts_its_process_and_signals_reach_every_waiting_case(api, county):
    api.deploy(DIAGRAMS / "message_start.bpmn")
    response = api.post(
        "/api/v1/messages",
        {"message_id": "reply-1", "name": "市级答复", "data": {"answer": "同意"}},
    )
    assert response.status_code == 201, response.get_json()
    started = response.get_json()["started"][0]
    assert api.instance(started)["data"]["answer"] == "同意"

    api.deploy(DIAGRAMS / "message_waits.bpmn")
    ids = [
        api.start("fee_wait", {"case_number": n, "place": county.code("v11")}).get_json()["id"]
        for n in ("S1", "S2")
    ]
    response = api.post("/api/v1/signals", {"signal_id": "policy-1", "name": "政策调整"})
    assert response.status_code == 200, response.get_json()
    assert sorted(response.get_json()["received"]) == ids
    assert {api.instance(i)["status"] for i in ids} == {"completed"}


PAID_ITEM = laned(
    "paid_item",
    ("村 窗口受理员", user("intake", "受理", {"step": "intake"})),
    ("县 市场监督管理局/审批股 审核人", '<bpmn:receiveTask id="wait_pay" name="等待缴费" '
     'messageRef="Message_paid"/>'),
).replace(b"</bpmn:definitions>", '<bpmn:message id="Message_paid" name="缴费完成"/>'
          "</bpmn:definitions>".encode())  # fmt: skip


def test_the_supervisor_sees_what_a_case_waits_for_until_the_payment_comes(
    app, api, county, session
):
    assert api.deploy(("paid.bpmn", PAID_ITEM)).status_code == 201
    item = Item(
        code="PAID-001",
        name="缴费测试事项",
        kind="promise",
        lead_department_id=county.departments["scj"].id,
        statutory_days=20,
        committed_days=5,
        process_id="paid_item",
        status="published",
    )
    item.materials = [ItemMaterial(position=0, name="申请书", form="original", required=True)]
    session.add(item)
    session.commit()
    body = {
        "item_code": "PAID-001",
        "applicant": {"type": "person", "name": "周建华", "id_number": "11010519491231002X",
                      "phone": "13900000000"},
        "place": county.code("v11"),
        "materials": ["申请书"],
    }  # fmt: skip
    created = api_for(app, "v11_window_clerk").post("/api/v1/cases", body)
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]

    supervisor = signed_in(app, "center_inspector")
    page = supervisor.get(f"/cases/{number}").get_data(as_text=True)
    assert f"等待消息：缴费完成（办件编号 {number}）" in page

    payer = api_for(app, "bigdata_admin")
    message = {"message_id": f"pay-{number}", "name": "缴费完成",
               "correlation": {"case_number": number}, "data": {"paid_amount": 50}}  # fmt: skip
    assert payer.post("/api/v1/messages", message).status_code == 200
    page = supervisor.get(f"/cases/{number}").get_data(as_text=True)
    assert "等待消息" not in page
