"""办事指南: the published items as applicants read them, searched by name,
department and 主题; the route as public steps; the 一件事 packages beside them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.cases.progress import BPMN_NS, bpmn_file
from app.items.packages import published as published_packages
from app.models.items import FEEDBACK_KIND, TOPIC_AUDIENCES, Item, ItemPackage, ItemTopic
from app.models.org import Department, Region
from app.routing.describe import describe
from app.vocabulary import ItemStatus
from workflows.deployments import latest_definition
from workflows.xmlsafe import parse_xml

MAX_QUERY = 50


def hall_county(session) -> Region | None:
    """The county whose hall this is (the first county-level region)."""
    return session.scalars(
        select(Region).where(Region.level == "county").order_by(Region.id).limit(1)
    ).first()


def county_name(session) -> str:
    """The county's name, for the header."""
    name = session.scalar(
        select(Region.name).where(Region.level == "county").order_by(Region.id).limit(1)
    )
    return name or ""


def _published():
    """Items an applicant can look up: published approval items (not the 监督件)."""
    return select(Item).where(Item.status == ItemStatus.PUBLISHED, Item.kind != FEEDBACK_KIND)


def search(
    session, text: str = "", department_id: int | None = None, topic: str = ""
) -> list[Item]:
    """Published items whose name holds ``text``, of a lead department, under a 主题."""
    query = _published().options(selectinload(Item.lead_department))
    text = text.strip()[:MAX_QUERY]
    if text:
        query = query.where(Item.name.contains(text, autoescape=True))
    if department_id is not None:
        query = query.where(Item.lead_department_id == department_id)
    if topic:
        query = query.where(Item.id.in_(select(ItemTopic.item_id).where(ItemTopic.name == topic)))
    return list(session.scalars(query.order_by(Item.code)))


def published_item(session, code: str) -> Item | None:
    return session.scalars(_published().where(Item.code == code)).first()


def topics(session) -> dict[str, list[str]]:
    """The 主题 of published items, by audience (个人 / 法人)."""
    rows = session.execute(
        select(ItemTopic.audience, ItemTopic.name)
        .join(Item)
        .where(Item.status == ItemStatus.PUBLISHED)
        .distinct()
        .order_by(ItemTopic.audience, ItemTopic.name)
    )
    found: dict[str, list[str]] = {audience: [] for audience in TOPIC_AUDIENCES}
    for audience, name in rows:
        found.setdefault(audience, []).append(name)
    for package in published_packages(session):
        for audience, name in package.topics or []:
            if name not in found.setdefault(audience, []):
                found[audience].append(name)
    return {audience: sorted(names) for audience, names in found.items()}


def search_packages(
    session, text: str = "", department_id: int | None = None, topic: str = ""
) -> list[ItemPackage]:
    """Published 一件事 whose name holds ``text``, under a 主题, with an item of a department."""
    text = text.strip()[:MAX_QUERY]
    found = []
    for package in published_packages(session):
        if text and text not in package.name and not any(text in i.name for i in package.items):
            continue
        if topic and topic not in [name for _, name in package.topics or []]:
            continue
        if department_id is not None and all(
            i.lead_department_id != department_id for i in package.items
        ):
            continue
        found.append(package)
    return found


def departments(session) -> list[Department]:
    """The lead departments of published items."""
    ids = _published().with_only_columns(Item.lead_department_id)
    return list(
        session.scalars(select(Department).where(Department.id.in_(ids)).order_by(Department.id))
    )


@dataclass(frozen=True)
class Step:
    """One step of an item's route, in public words: its name and who does it."""

    name: str
    department: str | None


def _tag(element) -> str:
    return element.tag.rpartition("}")[2]


def route(session, item: Item) -> list[list[Step]]:
    """The user tasks of the item's deployed diagram as stages: each stage the steps the
    flows reach after the same number of earlier steps, so steps done side by side
    (并联审批) share a stage. Boundary events and loops back are not followed."""
    definition = latest_definition(session, item.process_id) if item.process_id else None
    content = bpmn_file(definition) if definition is not None else None
    if content is None:
        return []
    process = parse_xml(content).find(f".//{{{BPMN_NS}}}process[@id='{item.process_id}']")
    if process is None:
        return []
    nodes = {n.get("id"): n for n in process if n.get("id")}
    lanes = {
        ref.text.strip(): lane.get("name")
        for lane in process.iter(f"{{{BPMN_NS}}}lane")
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef")
        if ref.text
    }
    following: dict[str, list[str]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        following.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    # fewest user tasks before each node (0-1 breadth-first: a user task costs one)
    depth = {i: 0 for i, n in nodes.items() if _tag(n) == "startEvent"}
    queue = list(depth)
    while queue:
        node_id = queue.pop(0)
        node = nodes.get(node_id)
        cost = depth[node_id] + (node is not None and _tag(node) == "userTask")
        for target in following.get(node_id, []):
            if target not in depth or cost < depth[target]:
                depth[target] = cost
                queue.append(target)
    stages: dict[int, list[Step]] = {}
    for node_id, level in sorted(depth.items(), key=lambda pair: pair[1]):
        node = nodes.get(node_id)
        if node is not None and _tag(node) == "userTask":
            step = Step(node.get("name") or node_id, _department(lanes.get(node_id), node))
            stages.setdefault(level, []).append(step)
    return [stages[level] for level in sorted(stages)]


def _properties(node) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in node.iter()
        if isinstance(p.tag, str) and _tag(p) == "property" and p.get("name")
    }


def _department(lane: str | None, node) -> str | None:
    """The department doing a step (no level, no post, no person: those are staff matters)."""
    assignment = describe(lane, _properties(node), {})
    if assignment.department:
        return assignment.department.split("/")[0]
    if assignment.level == "township":
        return "乡镇（街道）便民服务中心"
    if assignment.level == "village":
        return "村（社区）便民服务站"
    return None
