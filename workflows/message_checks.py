"""Deploy-time checks of message and signal elements (``deployments.analyse`` calls them).

Refused: a receive task that names no message (it would complete at once) and
a send task that names none or is a Camunda external task (it would do
nothing). Warned: a diagram that waits for a message or signal nobody sends:
neither the bundle, nor a deployed process, nor the platform itself
(``platform_sends``), nor an outside system registered in ``message_sender``.
"""

from __future__ import annotations

from sqlalchemy import func, select

from . import models as m
from .specs import BPMN_NS, CAMUNDA_NS
from .xmlsafe import XmlRejected, parse_xml

KIND_ZH = {m.MESSAGE: "消息", m.SIGNAL: "信号"}
# (kind, name) → who: what the platform built on this runtime sends itself (e.g. its
# payment interface sends 缴费完成), registered when the application starts.
PLATFORM_SENT: dict[tuple[str, str], str] = {}
CATCHING = ("receiveTask", "intermediateCatchEvent", "boundaryEvent", "startEvent")
THROWING = ("sendTask", "intermediateThrowEvent", "endEvent")


def _q(tag: str, ns: str = BPMN_NS) -> str:
    return f"{{{ns}}}{tag}"


def check_message_tasks(process, check) -> None:
    """Receive and send tasks must name their message; external send tasks are refused."""
    for task in process.iter(_q("receiveTask")):
        if _message_ref(task) is None:
            check.add(
                "receive.no_message",
                "接收任务（receiveTask）没有引用消息（messageRef），办件会直接跳过这一步。"
                "请在属性面板选择或新建一条消息，例如“缴费完成”。",
                task,
            )
    for task in process.iter(_q("sendTask")):
        if task.get(_q("type", CAMUNDA_NS)) == "external":
            check.add(
                "task.unsupported",
                '暂不支持外部发送任务（sendTask 的 camunda:type="external"），'
                "请引用一条消息（messageRef），由平台投递给等待它的办件。",
                task,
            )
        elif _message_ref(task) is None:
            check.add(
                "send.no_message",
                "发送任务（sendTask）没有引用消息（messageRef），不会发出任何东西。"
                "请在属性面板选择要发送的消息。",
                task,
            )


def _message_ref(task) -> str | None:
    ref = task.get("messageRef")
    if ref:
        return ref
    definition = task.find(_q("messageEventDefinition"))
    return definition.get("messageRef") if definition is not None else None


def names(tree) -> tuple[dict, set]:
    """``({(kind, name): element} caught, {(kind, name)} thrown)`` of one BPMN tree."""
    messages = {e.get("id"): e.get("name") for e in tree.iter(_q("message"))}
    signals = {e.get("id"): e.get("name") for e in tree.iter(_q("signal"))}
    caught, thrown = {}, set()
    for tags, found in ((CATCHING, None), (THROWING, thrown)):
        for tag in tags:
            for element in tree.iter(_q(tag)):
                for key in _event_names(element, messages, signals):
                    if found is None:
                        caught.setdefault(key, element)
                    else:
                        found.add(key)
    return caught, thrown


def _event_names(element, messages: dict, signals: dict) -> list[tuple[str, str]]:
    found = []
    ref = element.get("messageRef")
    if ref and messages.get(ref):
        found.append((m.MESSAGE, messages[ref]))
    for definition in element.findall(_q("messageEventDefinition")):
        if messages.get(definition.get("messageRef")):
            found.append((m.MESSAGE, messages[definition.get("messageRef")]))
    for definition in element.findall(_q("signalEventDefinition")):
        if signals.get(definition.get("signalRef")):
            found.append((m.SIGNAL, signals[definition.get("signalRef")]))
    return found


def platform_sends(kind: str, name: str, sender: str) -> None:
    """Record that the platform itself sends this message or signal (no warning for it)."""
    PLATFORM_SENT[(kind, name)] = sender


def check_senders(session, bpmn: list, check) -> None:
    """Warn of each message or signal the bundle waits for that nobody is known to send."""
    caught, thrown = {}, set()
    where = {}
    for name, tree in bpmn:
        tree_caught, tree_thrown = names(tree)
        for key, element in tree_caught.items():
            caught.setdefault(key, element)
            where.setdefault(key, name)
        thrown |= tree_thrown
    unsent = {key for key in caught if key not in thrown}
    if unsent:
        unsent -= set(PLATFORM_SENT) | _registered(session) | _thrown_by_deployed(session)
    for kind, name in sorted(unsent):
        check.current_file = where[(kind, name)]
        check.add(
            "message.no_sender",
            f"流程等待{KIND_ZH[kind]}“{name}”，但部署包和已部署的流程都不发送它，"
            f"也没有登记外部系统发送它：办件会一直停在这里。请确认对接系统会通过 "
            f"POST /api/v1/{'messages' if kind == m.MESSAGE else 'signals'} 发送，"
            "并由管理员在 /api/v1/message-senders 登记。",
            caught[(kind, name)],
            severity="warning",
        )


def _registered(session) -> set:
    return {
        tuple(row) for row in session.execute(select(m.MessageSender.kind, m.MessageSender.name))
    }


def _thrown_by_deployed(session) -> set:
    """What the newest version of each deployed process throws (their files are re-read)."""
    newest = (
        select(m.ProcessDefinition.process_id, func.max(m.ProcessDefinition.version).label("v"))
        .group_by(m.ProcessDefinition.process_id)
        .subquery()
    )
    deployments = select(m.ProcessDefinition.deployment_id).join(
        newest,
        (m.ProcessDefinition.process_id == newest.c.process_id)
        & (m.ProcessDefinition.version == newest.c.v),
    )
    thrown = set()
    for content in session.scalars(
        select(m.DeploymentFile.content).where(
            m.DeploymentFile.kind == "bpmn", m.DeploymentFile.deployment_id.in_(deployments)
        )
    ):
        try:
            thrown |= names(parse_xml(content))[1]
        except XmlRejected:
            continue
    return thrown
