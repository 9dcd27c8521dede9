"""``POST /messages``, ``POST /signals`` and the registry of names outside systems send."""

from __future__ import annotations

from flask import jsonify

from app import policy
from app.errors import BadRequest, Forbidden
from app.extensions import db
from app.messages import services
from app.policy import requires
from workflows import models as m
from workflows.errors import InvalidTaskData

from .views import _json_body, api_user

MAX_ID_CHARS = 200
MAX_NAME_CHARS = 255
MAX_CORRELATION_KEYS = 5
MAX_CORRELATION_CHARS = 200
MAX_DATA_KEYS = 100


def _fields(body: dict, allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(
            f"请求体含有不认识的字段：{'、'.join(unknown)}（只接受 {'、'.join(sorted(allowed))}）。"
        )


def _text(body: dict, key: str, label: str, limit: int, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"缺少 {key}（{label}）。")
    if len(value) > limit:
        raise BadRequest(f"{key}（{label}）最长 {limit} 个字符。")
    return value.strip()


def _correlation(body: dict) -> dict:
    value = body.get("correlation", {})
    if not isinstance(value, dict):
        raise BadRequest('correlation 必须是对象，例如 {"case_number": "办件编号"}。')
    if len(value) > MAX_CORRELATION_KEYS:
        raise BadRequest(f"correlation 最多 {MAX_CORRELATION_KEYS} 个关联键。")
    for key, item in value.items():
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise BadRequest(f"关联键 {key} 的值必须是文字或整数。")
        if len(key) > MAX_CORRELATION_CHARS or len(str(item)) > MAX_CORRELATION_CHARS:
            raise BadRequest(f"关联键 {key[:20]} 过长（最多 {MAX_CORRELATION_CHARS} 个字符）。")
    return value


def _data(body: dict) -> dict:
    value = body.get("data", {})
    if not isinstance(value, dict):
        raise InvalidTaskData("data 必须是 JSON 对象。", {})
    if len(value) > MAX_DATA_KEYS:
        raise InvalidTaskData(f"data 最多 {MAX_DATA_KEYS} 个字段。", {})
    return value


def _may_deliver(instance) -> None:
    if not policy.manages_instance(db.session, api_user(), instance):
        raise Forbidden("该办件不在您管理的区域内，不能向它投递消息或信号。")


def _answer(delivery, status: int = 200):
    body = delivery.to_dict()
    db.session.commit()
    if delivery.started:
        status = 201
    return jsonify(body), status


@requires("messages")
def deliver_message():
    body = _json_body()
    _fields(body, {"message_id", "name", "correlation", "data"})
    delivery = services.deliver_message(
        db.session,
        _text(body, "name", "消息名称", MAX_NAME_CHARS),
        _correlation(body),
        _data(body),
        message_id=_text(body, "message_id", "消息编号，由发送方生成，重发时不变", MAX_ID_CHARS),
        actor=api_user().username,
        may_deliver=_may_deliver,
    )
    return _answer(delivery)


@requires("messages")
def broadcast_signal():
    body = _json_body()
    _fields(body, {"signal_id", "name", "process_id", "data"})
    delivery = services.broadcast_signal(
        db.session,
        _text(body, "name", "信号名称", MAX_NAME_CHARS),
        _data(body),
        process_id=_text(body, "process_id", "流程标识", MAX_NAME_CHARS, required=False),
        signal_id=_text(body, "signal_id", "信号编号，由发送方生成，重发时不变", MAX_ID_CHARS),
        actor=api_user().username,
        may_deliver=_may_deliver,
    )
    return _answer(delivery)


def _sender_json(sender: m.MessageSender) -> dict:
    return {"id": sender.id, "kind": sender.kind, "name": sender.name, "sender": sender.sender}


@requires("messages")
def list_senders():
    senders = services.registered_senders(db.session)
    return jsonify({"senders": [_sender_json(s) for s in senders]})


@requires("messages")
def register_sender():
    body = _json_body()
    _fields(body, {"kind", "name", "sender"})
    kind = body.get("kind")
    if kind not in (m.MESSAGE, m.SIGNAL):
        raise BadRequest("kind 必须是 message（消息）或 signal（信号）。")
    sender = services.register_sender(
        db.session,
        kind,
        _text(body, "name", "消息或信号名称", MAX_NAME_CHARS),
        _text(body, "sender", "发送方系统", MAX_NAME_CHARS, required=False),
        api_user().username,
    )
    answer = _sender_json(sender)
    db.session.commit()
    return jsonify(answer), 201
