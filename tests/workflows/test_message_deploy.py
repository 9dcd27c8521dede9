"""Deploying diagrams that wait for or send messages: what is refused, what is warned."""

from __future__ import annotations

from ..conftest import DIAGRAMS
from ..diagrams import HEADER, chain, user

CAMUNDA_HEADER = HEADER.replace(
    "xmlns:spiffworkflow=",
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:spiffworkflow=',
)


def _problems(response) -> list[tuple]:
    body = response.get_json()
    found = body.get("error", {}).get("problems") or body.get("warnings") or []
    return [(p["key"], p["element_id"], p["line"], p["severity"]) for p in found]


def test_a_receive_task_without_a_message_and_an_external_send_task_are_refused(api):
    silent = chain("silent", user("a"), '<bpmn:receiveTask id="wait_pay" name="等待缴费"/>')
    response = api.deploy(("silent.bpmn", silent))
    assert response.status_code == 422
    problem = response.get_json()["error"]["problems"][0]
    assert (problem["file"], problem["element_id"], problem["key"]) == (
        "silent.bpmn",
        "wait_pay",
        "receive.no_message",
    )
    assert problem["line"] and "messageRef" in problem["message"]

    external = (
        CAMUNDA_HEADER.format(pid="ext")
        + '<bpmn:process id="ext" isExecutable="true"><bpmn:startEvent id="start"/>'
        + '<bpmn:sendTask id="notify" name="通知" camunda:type="external" camunda:topic="pay"/>'
        + '<bpmn:endEvent id="end"/>'
        + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="notify"/>'
        + '<bpmn:sequenceFlow id="f2" sourceRef="notify" targetRef="end"/>'
        + "</bpmn:process></bpmn:definitions>"
    ).encode()
    response = api.deploy(("ext.bpmn", external))
    assert response.status_code == 422
    assert [(k, e) for k, e, _l, _s in _problems(response)] == [("task.unsupported", "notify")]
    assert "外部发送任务" in response.get_json()["error"]["problems"][0]["message"]


def test_a_wait_nobody_sends_is_warned_until_a_sender_is_known(api):
    # 缴费完成 is sent by the platform itself (its payment providers): never warned
    response = api.deploy(DIAGRAMS / "message_race.bpmn")
    assert response.status_code == 201
    assert _problems(response) == []
    renamed = (
        (DIAGRAMS / "message_race.bpmn")
        .read_bytes()
        .replace("缴费完成".encode(), "押金到账".encode())
    )
    response = api.deploy(("deposit.bpmn", renamed.replace(b"fee_race", b"deposit_race")))
    assert response.status_code == 201
    assert [(k, e, s) for k, e, _l, s in _problems(response)] == [
        ("message.no_sender", "paid", "warning")
    ]
    assert "押金到账" in response.get_json()["warnings"][0]["message"]

    # the cashier's diagram sends 缴费完成 and 市级答复: the reply's start is then answered too
    assert api.deploy(DIAGRAMS / "message_send.bpmn").status_code == 201
    assert _problems(api.deploy(DIAGRAMS / "message_start.bpmn")) == []

    registered = api.post(
        "/api/v1/message-senders", {"kind": "signal", "name": "政策调整", "sender": "县政策库"}
    )
    assert registered.status_code == 201, registered.get_json()
    assert api.post("/api/v1/message-senders", {"kind": "mail", "name": "x"}).status_code == 400
    senders = api.get("/api/v1/message-senders").get_json()["senders"]
    assert [(s["kind"], s["name"], s["sender"]) for s in senders] == [
        ("signal", "政策调整", "县政策库")
    ]
    warned = _problems(api.deploy(DIAGRAMS / "message_waits.bpmn"))
    assert sorted(e for _k, e, _l, _s in warned) == ["reminded", "withdrawn"]
