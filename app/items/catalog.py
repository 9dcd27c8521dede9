"""Loading the item catalog from a JSON file (``bpmn/catalog.json``).

The file is ``{"items": [...]}`` (a bare list is accepted too); each entry has
``code``, ``name``, ``kind``, ``lead_department`` (the end of a department's
name, e.g. ``市场监督管理局``), ``authority`` (the 实施机关 in whose name documents
are issued, e.g. ``青山县市场监督管理局``; the lead department's name if left out), ``legal_basis``, ``conditions``,
``statutory_days``, ``committed_days``, ``fee_amount``, ``fee_note``,
``online``, ``green_channel``, ``process_id``, ``status``, where to go (``window``,
``address``, ``phone``, ``hours``), the guide's 主题 ``topics`` (``{"person": [...],
"company": [...]}``: life events and enterprise events) and ``materials``
(``name``, ``form``, ``copies``, ``required``, ``note``, and ``satisfied_by_item``: the
code of the item whose earlier result satisfies it, 前置审批); ``result_name`` is what
an approval issues (e.g. ``食品小作坊登记证``, kept in the 资料共享库).

Items are matched by code: new codes are created, existing ones updated. A
material list is replaced only when it differs, so blank forms uploaded to an
unchanged material survive a reload. The whole file is checked before anything
is written: one bad entry raises ``CatalogError`` and nothing changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from app.errors import DomainError
from app.items.packages import shape_of_item
from app.items.services import set_topics
from app.models.items import (
    FEEDBACK_KIND,
    KINDS,
    MATERIAL_FORMS,
    TOPIC_AUDIENCES,
    Item,
    ItemMaterial,
    ItemPackage,
    ItemPackageMember,
)
from app.models.org import Department
from app.vocabulary import ItemStatus
from workflows.models import ProcessDefinition
from workflows.timeutil import utcnow

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
STATE_ZH = {CREATED: "已新增", UPDATED: "已更新", UNCHANGED: "未变化"}
ITEM_FIELDS = (
    "name",
    "kind",
    "lead_department_id",
    "authority",
    "legal_basis",
    "conditions",
    "statutory_days",
    "committed_days",
    "fee_amount",
    "fee_note",
    "online",
    "green_channel",
    "process_id",
    "result_name",
    "status",
    "window",
    "address",
    "phone",
    "hours",
)
MATERIAL_FIELDS = ("name", "form", "copies", "required", "note", "satisfied_by_item")


class CatalogError(DomainError):
    """A catalog entry that cannot be loaded; ``code`` is the item's code when known."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


@dataclass
class Loaded:
    """What loading did to one item: ``created``, ``updated`` or ``unchanged``."""

    item: Item
    state: str

    @property
    def state_zh(self) -> str:
        return STATE_ZH[self.state]


def load_catalog(session, path) -> list[tuple[Item, bool]]:
    """Create or update the items of the catalog file; ``(item, created)`` per entry.

    Flushes but does not commit. Raises ``CatalogError`` (nothing written) for a bad entry.
    """
    return [(loaded.item, loaded.state == CREATED) for loaded in sync_catalog(session, path)]


def sync_catalog(session, path) -> list[Loaded]:
    """Like ``load_catalog``, telling apart updated and unchanged items."""
    entries = read_catalog(path)
    plans = [_check(session, entry, index) for index, entry in enumerate(entries, start=1)]
    seen: dict[str, int] = {}
    for index, plan in enumerate(plans, start=1):
        if plan["code"] in seen:
            raise CatalogError(
                f"事项 {plan['code']}：编码重复（第 {seen[plan['code']]} 项和第 {index} 项）。",
                plan["code"],
            )
        seen[plan["code"]] = index
    for plan in plans:
        _check_prerequisites(session, plan, set(seen))
    return [_apply(session, plan) for plan in plans]


def _check_prerequisites(session, plan: dict, codes: set[str]) -> None:
    """A 前置审批 material names another item, in the file or already in the catalog."""
    for material in plan["materials"]:
        wanted = material["satisfied_by_item"]
        if wanted is None:
            continue
        if wanted == plan["code"]:
            raise CatalogError(
                f"事项 {plan['code']} 的材料“{material['name']}”不能由本事项的结果满足。",
                plan["code"],
            )
        known = wanted in codes or session.scalar(select(Item.id).where(Item.code == wanted))
        if not known:
            raise CatalogError(
                f"事项 {plan['code']} 的材料“{material['name']}”所指的前置审批事项 {wanted} 不存在。",
                plan["code"],
            )


def read_catalog(path) -> list[dict]:
    """The entries of a catalog file."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"无法读取事项目录文件 {path}：{exc.strerror or exc}。") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"事项目录文件 {path.name} 不是有效的 JSON（UTF-8）：{exc}。") from None
    entries = document.get("items") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise CatalogError(f"事项目录文件 {path.name} 应当包含事项列表 items。")
    return entries


# --- checking one entry ------------------------------------------------------


def find_lead_department(session, name: str) -> Department | None:
    """A top-level department whose name ends with ``name`` (the first one, by id)."""
    return session.scalars(
        select(Department)
        .where(Department.parent_id.is_(None), Department.name.endswith(name, autoescape=True))
        .order_by(Department.id)
        .limit(1)
    ).first()


def process_deployed(session, process_id: str) -> bool:
    return (
        session.scalar(
            select(ProcessDefinition.id).where(ProcessDefinition.process_id == process_id).limit(1)
        )
        is not None
    )


def _text(entry: dict, key: str, where: str, code, *, required=False) -> str | None:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CatalogError(f"{where}缺少“{key}”。", code)
        return None
    if not isinstance(value, str):
        raise CatalogError(f"{where}的“{key}”应当是文字。", code)
    return value.strip()


def _days(entry: dict, key: str, where: str, code) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogError(f"{where}的“{key}”应当是不小于 0 的整数（工作日）。", code)
    return value


def _flag(entry: dict, key: str, where: str, code) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}的“{key}”应当是 true 或 false。", code)
    return value


def _fee(entry: dict, where: str, code) -> Decimal | None:
    value = entry.get("fee_amount")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CatalogError(f"{where}的收费金额 fee_amount 应当是数字。", code)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CatalogError(f"{where}的收费金额 fee_amount 应当是数字。", code) from None
    if not amount.is_finite() or amount < 0:
        raise CatalogError(f"{where}的收费金额不能为负数。", code)
    return amount.quantize(Decimal("0.01"))


def _materials(entry: dict, where: str, code) -> list[dict]:
    materials = entry.get("materials", [])
    if not isinstance(materials, list):
        raise CatalogError(f"{where}的申请材料 materials 应当是列表。", code)
    result = []
    for number, material in enumerate(materials, start=1):
        at = f"{where}第 {number} 项申请材料"
        if not isinstance(material, dict):
            raise CatalogError(f"{at}格式不正确。", code)
        form = material.get("form", "original")
        if form not in MATERIAL_FORMS:
            allowed = "、".join(MATERIAL_FORMS)
            raise CatalogError(f"{at}的材料形式“{form}”不正确（应为 {allowed} 之一）。", code)
        copies = material.get("copies", 1)
        if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
            raise CatalogError(f"{at}的份数应当是至少为 1 的整数。", code)
        required = material.get("required", True)
        if not isinstance(required, bool):
            raise CatalogError(f"{at}的“required”应当是 true 或 false。", code)
        result.append(
            {
                "name": _text(material, "name", at, code, required=True),
                "form": form,
                "copies": copies,
                "required": required,
                "note": _text(material, "note", at, code),
                "satisfied_by_item": _short(material, "satisfied_by_item", at, code, 40),
            }
        )
    return result


def _topics(entry: dict, where: str, code) -> list[tuple[str, str]]:
    topics = entry.get("topics", {})
    if not isinstance(topics, dict) or set(topics) - set(TOPIC_AUDIENCES):
        raise CatalogError(
            f'{where}的主题 topics 应当是 {{"person": [...], "company": [...]}}。', code
        )
    result = []
    for audience, names in topics.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise CatalogError(f"{where}的主题 topics.{audience} 应当是文字列表。", code)
        for name in names:
            if len(name.strip()) > 40:
                raise CatalogError(f"{where}的主题“{name}”太长（最多 40 个字）。", code)
            result.append((audience, name.strip()))
    return result


def _short(entry: dict, key: str, where: str, code, limit: int) -> str | None:
    value = _text(entry, key, where, code)
    if value is not None and len(value) > limit:
        raise CatalogError(f"{where}的“{key}”太长（最多 {limit} 个字）。", code)
    return value


def _check(session, entry, index: int) -> dict:
    """Validate one entry and resolve its department; the values to store."""
    if not isinstance(entry, dict):
        raise CatalogError(f"第 {index} 项格式不正确，应当是一个对象。")
    code = entry.get("code")
    if not isinstance(code, str) or not code.strip():
        raise CatalogError(f"第 {index} 项缺少事项编码 code。")
    code = code.strip()
    if len(code) > 40:
        raise CatalogError(f"事项 {code}：编码太长（最多 40 个字符）。", code)
    where = f"事项 {code} "
    name = _text(entry, "name", where, code, required=True)
    kind = entry.get("kind")
    if kind not in KINDS:
        allowed = "、".join(f"{k}（{v}）" for k, v in KINDS.items())
        raise CatalogError(f"{where}的事项类型“{kind}”不正确，应为 {allowed} 之一。", code)
    statutory = _days(entry, "statutory_days", where, code)
    committed = _days(entry, "committed_days", where, code)
    if committed > statutory:
        raise CatalogError(
            f"{where}的承诺时限（{committed} 个工作日）超过了法定时限（{statutory} 个工作日）。",
            code,
        )
    department_name = _text(entry, "lead_department", where, code, required=True)
    department = find_lead_department(session, department_name)
    if department is None:
        raise CatalogError(
            f"{where}的主办部门“{department_name}”不存在：请先导入组织机构，或改正部门名称。",
            code,
        )
    process_id = _text(entry, "process_id", where, code)
    if process_id is None:
        raise CatalogError(f"{where}没有指定办理流程 process_id。", code)
    status = ItemStatus.parse(entry.get("status", ItemStatus.DRAFT))
    if status is None:
        allowed = "、".join(ItemStatus)
        raise CatalogError(f"{where}的状态“{entry['status']}”不正确，应为 {allowed} 之一。", code)
    materials = _materials(entry, where, code)
    if status == ItemStatus.PUBLISHED:
        if not process_deployed(session, process_id):
            raise CatalogError(
                f"{where}不能发布：流程 {process_id} 尚未部署。"
                "请先部署流程（flask --app app bpmn-load bpmn），再导入事项目录。",
                code,
            )
        if not materials and kind != FEEDBACK_KIND:  # a 监督件 asks for no materials
            raise CatalogError(f"{where}不能发布：请至少列出一项申请材料。", code)
    return {
        "code": code,
        "values": {
            "name": name,
            "kind": kind,
            "lead_department_id": department.id,
            "authority": _text(entry, "authority", where, code),
            "legal_basis": _text(entry, "legal_basis", where, code),
            "conditions": _text(entry, "conditions", where, code),
            "statutory_days": statutory,
            "committed_days": committed,
            "fee_amount": _fee(entry, where, code),
            "fee_note": _text(entry, "fee_note", where, code),
            "online": _flag(entry, "online", where, code),
            "green_channel": _flag(entry, "green_channel", where, code),
            "process_id": process_id,
            "result_name": _short(entry, "result_name", where, code, 200),
            "status": status,
            "window": _short(entry, "window", where, code, 200),
            "address": _short(entry, "address", where, code, 200),
            "phone": _short(entry, "phone", where, code, 40),
            "hours": _short(entry, "hours", where, code, 200),
        },
        "materials": materials,
        "topics": _topics(entry, where, code),
    }


# --- writing -----------------------------------------------------------------


def _same(current, wanted) -> bool:
    if isinstance(wanted, Decimal) or isinstance(current, Decimal):
        if current is None or wanted is None:
            return current is wanted
        return Decimal(current) == Decimal(wanted)
    return current == wanted


def _apply(session, plan: dict) -> Loaded:
    item = session.scalars(select(Item).where(Item.code == plan["code"])).first()
    created = item is None
    if created:
        item = Item(code=plan["code"])
        session.add(item)
    changed = created
    for key, value in plan["values"].items():
        if created or not _same(getattr(item, key), value):
            setattr(item, key, value)
            changed = True
    current = [{k: getattr(m, k) for k in MATERIAL_FIELDS} for m in item.materials]
    if current != plan["materials"]:
        item.materials.clear()
        if not created:
            session.flush()  # delete the old rows before their replacements go in
        for position, values in enumerate(plan["materials"]):
            item.materials.append(ItemMaterial(position=position, **values))
        changed = True
    if set_topics(session, item, plan["topics"]):
        changed = True
    if changed:
        item.updated_at = utcnow()
    session.flush()
    return Loaded(item, CREATED if created else UPDATED if changed else UNCHANGED)


# --- 一件事 packages ------------------------------------------------------------------------

PACKAGE_FIELDS = ("name", "description", "status", "same_fields", "same_materials", "topics", "window", "address", "phone")  # fmt: skip


@dataclass
class LoadedPackage:
    package: ItemPackage
    state: str

    @property
    def state_zh(self) -> str:
        return STATE_ZH[self.state]


def sync_packages(session, path) -> list[LoadedPackage]:
    """Create or update the catalog file's ``packages`` (after its items are loaded).

    A package is ``code``, ``name``, ``description``, ``items`` (two or more item
    codes, in the order the applicant reads them), ``same_fields`` and
    ``same_materials`` (groups of ``"ITEM-CODE:field or material name"`` that are one
    answer or one file for the applicant), ``topics``, ``status`` and where to go.
    """
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    entries = document.get("packages", []) if isinstance(document, dict) else []
    if not isinstance(entries, list):
        raise CatalogError("事项目录文件的 packages 应当是列表。")
    plans = [_check_package(session, entry, index) for index, entry in enumerate(entries, 1)]
    codes = [plan["code"] for plan in plans]
    for code in codes:
        if codes.count(code) > 1:
            raise CatalogError(f"一件事 {code}：编码重复。", code)
    return [_apply_package(session, plan) for plan in plans]


def _check_package(session, entry, index: int) -> dict:
    if not isinstance(entry, dict):
        raise CatalogError(f"第 {index} 个一件事格式不正确，应当是一个对象。")
    code = _short(entry, "code", f"第 {index} 个一件事", None, 40)
    if code is None:
        raise CatalogError(f"第 {index} 个一件事缺少编码 code。")
    where = f"一件事 {code} "
    codes = entry.get("items")
    if not isinstance(codes, list) or len(codes) < 2 or not all(isinstance(c, str) for c in codes):
        raise CatalogError(f"{where}的 items 应当列出至少两个事项编码。", code)
    if len(set(codes)) != len(codes):
        raise CatalogError(f"{where}的 items 中有重复的事项。", code)
    items = []
    for item_code in codes:
        item = session.scalars(select(Item).where(Item.code == item_code)).first()
        if item is None:
            raise CatalogError(f"{where}所列的事项 {item_code} 不存在。", code)
        items.append(item)
    status = ItemStatus.parse(entry.get("status", ItemStatus.DRAFT))
    if status is None:
        raise CatalogError(f"{where}的状态“{entry.get('status')}”不正确。", code)
    if status == ItemStatus.PUBLISHED:
        closed = [i.code for i in items if i.status != ItemStatus.PUBLISHED]
        if closed:
            raise CatalogError(f"{where}不能发布：事项 {'、'.join(closed)} 尚未发布。", code)
    by_code = {i.code: i for i in items}
    fields_of = {}
    for item in items:
        shape = shape_of_item(session, item)
        fields_of[item.code] = {f.key: f.schema for f in shape.fields}
    same_fields = _groups(entry, "same_fields", where, code)
    for group in same_fields:
        types = set()
        for text in group:
            item_code, _, name = text.partition(":")
            if item_code not in by_code:
                raise CatalogError(f"{where}的 same_fields 中“{text}”不是本一件事的事项。", code)
            if name not in fields_of[item_code]:
                raise CatalogError(
                    f"{where}的 same_fields 中“{text}”：事项 {item_code} 的受理表单没有这个字段。",
                    code,
                )
            types.add(str(fields_of[item_code][name].get("type")))
        if len(types) > 1:
            raise CatalogError(f"{where}的 same_fields 中 {group} 的字段类型不同，不能合并。", code)
    same_materials = _groups(entry, "same_materials", where, code)
    for group in same_materials:
        for text in group:
            item_code, _, name = text.partition(":")
            if item_code not in by_code:
                raise CatalogError(f"{where}的 same_materials 中“{text}”不是本一件事的事项。", code)
            if name not in {m.name for m in by_code[item_code].materials}:
                raise CatalogError(
                    f"{where}的 same_materials 中“{text}”：事项 {item_code} 没有这项材料。", code
                )
    return {
        "code": code,
        "items": items,
        "values": {
            "name": _text(entry, "name", where, code, required=True),
            "description": _text(entry, "description", where, code),
            "status": status,
            "same_fields": same_fields,
            "same_materials": same_materials,
            "topics": [list(t) for t in _topics(entry, where, code)],
            "window": _short(entry, "window", where, code, 200),
            "address": _short(entry, "address", where, code, 200),
            "phone": _short(entry, "phone", where, code, 40),
        },
    }


def _groups(entry: dict, key: str, where: str, code) -> list[list[str]]:
    groups = entry.get(key, [])
    ok = isinstance(groups, list) and all(
        isinstance(g, list) and len(g) >= 2 and all(isinstance(t, str) and ":" in t for t in g)
        for g in groups
    )
    if not ok:
        raise CatalogError(
            f'{where}的 {key} 应当是分组列表，如 [["事项编码:名称", "事项编码:名称"]]。', code
        )
    return [[t.strip() for t in g] for g in groups]


def _apply_package(session, plan: dict) -> LoadedPackage:
    package = session.scalars(select(ItemPackage).where(ItemPackage.code == plan["code"])).first()
    created = package is None
    if created:
        package = ItemPackage(code=plan["code"])
        session.add(package)
    changed = created
    for key, value in plan["values"].items():
        if created or getattr(package, key) != value:
            setattr(package, key, value)
            changed = True
    if [m.item_id for m in package.members] != [i.id for i in plan["items"]]:
        package.members.clear()
        if not created:
            session.flush()
        for position, item in enumerate(plan["items"]):
            package.members.append(ItemPackageMember(item=item, position=position))
        changed = True
    if changed:
        package.updated_at = utcnow()
    session.flush()
    return LoadedPackage(package, CREATED if created else UPDATED if changed else UNCHANGED)
