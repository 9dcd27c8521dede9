"""The item catalog: create, edit, publish and retire items and their materials."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select

from app.errors import Conflict, DomainError
from app.items.warning_rules import RuleError, canonical
from app.models.cases import CaseMaterial
from app.models.items import FEEDBACK_KIND, KINDS, MATERIAL_FORMS, Item, ItemMaterial, ItemTopic
from app.vocabulary import ItemStatus
from workflows.models import ProcessDefinition
from workflows.timeutil import utcnow

# Centers promise at most this share of the statutory limit; above it we warn.
COMMITTED_SHARE_WARNING = 0.7


class ItemError(DomainError):
    """A refused change to the catalog; ``field`` names the form field at fault."""


class MaterialInUse(Conflict):
    """A material that cases have recorded stays: their material lists point at it."""

    code = "material_in_use"


def check_limits(statutory: int, committed: int) -> str | None:
    """Refuse impossible limits; return a warning when the promise is close to the law's limit."""
    if statutory < 0 or committed < 0:
        raise ItemError("时限不能为负数。", "committed_days")
    if committed > statutory:
        raise ItemError("承诺时限不能超过法定时限。", "committed_days")
    if statutory and committed > statutory * COMMITTED_SHARE_WARNING:
        share = round(committed * 100 / statutory)
        return f"承诺时限为法定时限的 {share}%，超过 70%，请确认是否已尽量压缩。"
    return None


def process_deployed(session, process_id: str) -> bool:
    return (
        session.scalar(
            select(ProcessDefinition.id).where(ProcessDefinition.process_id == process_id).limit(1)
        )
        is not None
    )


def save_item(session, item: Item | None, values: dict) -> tuple[Item, str | None]:
    """Create or update an item from form values; returns it and a warning, if any."""
    if values["kind"] not in KINDS:
        raise ItemError("请选择事项类型。", "kind")
    warning = check_limits(values["statutory_days"], values["committed_days"])
    for field in ("warn_yellow", "warn_red"):
        if values.get(field):
            try:
                values[field] = canonical(values[field])
            except RuleError as exc:
                raise ItemError(str(exc), field)
    duplicate = session.scalars(select(Item).where(Item.code == values["code"])).first()
    if duplicate is not None and duplicate is not item:
        raise ItemError(f"事项编码 {values['code']} 已被“{duplicate.name}”使用。", "code")
    if item is None:
        item = Item(status=ItemStatus.DRAFT)
        session.add(item)
    if (
        item.status == ItemStatus.PUBLISHED
        and values.get("process_id")
        and not process_deployed(session, values["process_id"])
    ):
        raise ItemError("流程尚未部署，已发布的事项不能改用它。", "process_id")
    topics = values.pop("topics", None)
    for key, value in values.items():
        setattr(item, key, value)
    if topics is not None:
        set_topics(session, item, topics)
    item.updated_at = utcnow()
    session.flush()
    return item, warning


TOPIC_SEPARATORS = re.compile(r"[、，,;；\s]+")
MAX_TOPIC = 40


def parse_topics(text: str | None, field: str) -> list[str]:
    """主题 names typed in one line, separated by 、 or commas; each at most 40 characters."""
    names = [n for n in TOPIC_SEPARATORS.split(text or "") if n]
    for name in names:
        if len(name) > MAX_TOPIC:
            raise ItemError(f"主题“{name[:10]}…”太长（每个最多 {MAX_TOPIC} 个字）。", field)
    return list(dict.fromkeys(names))


def topics_text(item: Item, audience: str) -> str:
    return "、".join(t.name for t in item.topics if t.audience == audience)


def set_topics(session, item: Item, topics: list[tuple[str, str]]) -> bool:
    """Replace the item's 主题 (``(audience, name)`` pairs) if they differ; whether they did."""
    if [(t.audience, t.name) for t in item.topics] == topics:
        return False
    if item.topics and item.id is not None:
        item.topics.clear()
        session.flush()  # the old rows go before their replacements
    item.topics.extend(ItemTopic(audience=a, name=n) for a, n in topics)
    return True


def parse_step_limits(text: str | None) -> dict[str, int]:
    """``承办=3`` per line → {"承办": 3}; the working days must be whole and positive."""
    limits: dict[str, int] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        step, sep, days = (part.strip() for part in line.partition("="))
        if not sep or not step or not days.isdigit() or int(days) < 1:
            raise ItemError(
                f"环节时限第 {number} 行应为“环节名称=工作日数”，如“承办=3”。", "step_limits"
            )
        limits[step] = int(days)
    return limits


def step_limits_text(limits: dict | None) -> str:
    return "\n".join(f"{step}={days}" for step, days in (limits or {}).items())


def publish(session, item: Item) -> None:
    if not item.process_id:
        raise ItemError("请先为事项选择办理流程，才能发布。", "process_id")
    if not process_deployed(session, item.process_id):
        raise ItemError(f"流程 {item.process_id} 尚未部署，不能发布。", "process_id")
    if not item.materials and item.kind != FEEDBACK_KIND:  # a 监督件 asks for no materials
        raise ItemError("请至少列出一项申请材料，才能发布。")
    item.status = ItemStatus.PUBLISHED
    item.updated_at = utcnow()


def retire(session, item: Item) -> None:
    """停用: no new applications; running cases go on."""
    item.status = ItemStatus.RETIRED
    item.updated_at = utcnow()


def save_material(session, item: Item, material: ItemMaterial | None, values: dict) -> ItemMaterial:
    if values.get("form") not in MATERIAL_FORMS:
        raise ItemError("请选择材料形式。", "form")
    if values.get("copies", 1) < 1:
        raise ItemError("份数至少为 1。", "copies")
    _check_prerequisite(session, item, values.get("satisfied_by_item"))
    if material is None:
        material = ItemMaterial(position=len(item.materials))
        item.materials.append(material)
    for key, value in values.items():
        setattr(material, key, value)
    item.updated_at = utcnow()
    session.flush()
    return material


def _check_prerequisite(session, item: Item, code: str | None) -> None:
    """前置审批: the material names another item of the catalog by its code."""
    if code is None:
        return
    if code == item.code:
        raise ItemError("前置审批应当是另一个事项，不能是本事项。", "satisfied_by_item")
    if session.scalar(select(Item.id).where(Item.code == code)) is None:
        raise ItemError(
            f"前置审批事项 {code} 不存在，请填写目录中事项的编码。", "satisfied_by_item"
        )


def remove_material(session, item: Item, material: ItemMaterial) -> None:
    """Delete a material no case has recorded yet."""
    used = session.scalar(
        select(func.count())
        .select_from(CaseMaterial)
        .where(CaseMaterial.item_material_id == material.id)
    )
    if used:
        raise MaterialInUse(
            f"材料“{material.name}”已被 {used} 个办件登记，不能删除：办件的材料清单要保留它。"
            "如本事项不再收取这项材料，请停用本事项，另建事项后发布。"
        )
    item.materials.remove(material)
    for position, remaining in enumerate(item.materials):
        remaining.position = position
    item.updated_at = utcnow()


def move_material(item: Item, material: ItemMaterial, offset: int) -> None:
    """Move a material up (-1) or down (+1) in the list applicants read."""
    ordered = list(item.materials)
    index = ordered.index(material)
    target = index + offset
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, each in enumerate(ordered):
            each.position = position


def search(
    session,
    text: str = "",
    kind: str | None = None,
    status: str | None = None,
    *,
    limit=50,
    offset=0,
):
    stmt = select(Item)
    if text:
        stmt = stmt.where(
            or_(
                Item.code.icontains(text, autoescape=True),
                Item.name.icontains(text, autoescape=True),
            )
        )
    if kind in KINDS:
        stmt = stmt.where(Item.kind == kind)
    if status:
        stmt = stmt.where(Item.status == status)
    return list(session.scalars(stmt.order_by(Item.code).limit(limit).offset(offset)))
