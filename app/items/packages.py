"""一件事 packages in the catalog: the combined form and the combined material list.

An answer or a material that several items of a package need is asked once: fields
and materials of the same name are one, and the catalog's ``same_fields`` and
``same_materials`` join differently named ones (``"ITEM-CODE:name"``). A single item is
a package of one (``shape_of_item``), so the portal's application pages work the same
for both. Receiving a package and following it are app/cases/packages.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.models.items import Item, ItemMaterial, ItemPackage
from app.vocabulary import ItemStatus

from .intake import editable, intake_schema, problems, problems_message


class FormProblems(Exception):
    """Answers of a combined form at fault: ``fields`` by combined name."""

    def __init__(self, message: str, fields: dict[str, str]):
        super().__init__(message)
        self.message, self.fields = message, fields


# --- the combined form and material list ----------------------------------------------


@dataclass
class SharedField:
    """One answer of the combined form and the item fields it fills."""

    key: str
    schema: dict
    targets: list[tuple[int, str]]  # (item id, field name)
    required: bool = False


@dataclass
class SharedMaterial:
    """One material of the combined list and the item materials it stands for."""

    key: int  # the first item material's id
    members: list[ItemMaterial]

    @property
    def first(self) -> ItemMaterial:
        return self.members[0]

    @property
    def name(self) -> str:
        return self.first.name

    @property
    def required(self) -> bool:
        return any(m.required for m in self.members)

    @property
    def item_names(self) -> list[str]:
        return [m.item.name for m in self.members]

    @property
    def id(self) -> int:  # the portal's templates address a material by ``id``
        return self.key

    @property
    def form_zh(self) -> str:
        return self.first.form_zh

    @property
    def copies(self) -> int:
        return max(m.copies for m in self.members)

    @property
    def note(self) -> str | None:
        return self.first.note


@dataclass
class Shape:
    """What one application asks: the combined form and the combined material list."""

    items: list[Item]
    fields: list[SharedField] = field(default_factory=list)
    materials: list[SharedMaterial] = field(default_factory=list)
    schemas: dict[int, dict | None] = field(default_factory=dict)  # item id → intake schema

    def schema(self) -> dict:
        """The combined form as a JSON Schema (the window's and the portal's renderer)."""
        return {
            "type": "object",
            "properties": {f.key: f.schema for f in self.fields},
            "required": [f.key for f in self.fields if f.required],
        }

    def answers_for(self, item: Item, answers: dict) -> dict:
        """The item's own answers from the combined ones."""
        found = {}
        for shared in self.fields:
            for item_id, name in shared.targets:
                if item_id == item.id and shared.key in answers:
                    found[name] = answers[shared.key]
        return found

    def received_for(self, item: Item, keys: set[int]) -> set[int]:
        """The item's material ids received, from the combined materials received."""
        return {
            m.id
            for shared in self.materials
            if shared.key in keys
            for m in shared.members
            if m.item_id == item.id
        }

    def key_of_field(self, item: Item, name: str) -> str:
        for shared in self.fields:
            if (item.id, name) in shared.targets:
                return shared.key
        return name

    def problems(self, answers: dict, *, complete: bool) -> dict[str, str]:
        """Every combined field at fault, checked by each item's own form."""
        found: dict[str, str] = {}
        for item in self.items:
            own = problems(
                self.schemas.get(item.id), self.answers_for(item, answers), complete=complete
            )
            for name, message in own.items():
                top, _, rest = str(name).partition(".")
                key = self.key_of_field(item, top)
                found.setdefault(f"{key}.{rest}" if rest else key, message)
        return found

    def check(self, answers: dict, *, complete: bool) -> None:
        found = self.problems(answers, complete=complete)
        if found:
            raise FormProblems(problems_message(self.schema(), found), found)


class _Groups:
    """Union-find over hashable members, keeping first-seen order."""

    def __init__(self):
        self.parent: dict = {}

    def add(self, member) -> None:
        self.parent.setdefault(member, member)

    def find(self, member):
        while self.parent[member] != member:
            self.parent[member] = self.parent[self.parent[member]]
            member = self.parent[member]
        return member

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra  # the earlier root stays the key

    def groups(self) -> list[list]:
        found: dict = {}
        for member in self.parent:
            found.setdefault(self.find(member), []).append(member)
        return list(found.values())


def _shape(session, items: list[Item], same_fields: list, same_materials: list) -> Shape:
    shape = Shape(items=items)
    by_code = {item.code: item for item in items}
    fields_seen, props = _Groups(), {}
    by_name: dict[str, tuple[int, str]] = {}
    for item in items:
        schema = intake_schema(session, item)
        shape.schemas[item.id] = schema
        if not schema:
            continue
        required, asked = set(schema.get("required") or []), editable(schema)
        for name in schema.get("properties") or {}:
            if name not in asked:
                continue
            member = (item.id, name)
            props[member] = (schema["properties"][name], name in required)
            fields_seen.add(member)
            if name in by_name:
                fields_seen.union(by_name[name], member)
            else:
                by_name[name] = member
    for group in same_fields or []:
        members = [(by_code[c].id, n) for c, n in _pairs(group) if c in by_code]
        members = [m for m in members if m in props]
        for other in members[1:]:
            fields_seen.union(members[0], other)
    for group in fields_seen.groups():
        schema, _ = props[group[0]]
        shape.fields.append(
            SharedField(
                key=group[0][1],
                schema=schema,
                targets=list(group),
                required=any(props[m][1] for m in group),
            )
        )
    materials_seen, by_material_name = _Groups(), {}
    materials = {}
    for item in items:
        for material in item.materials:
            materials[material.id] = material
            materials_seen.add(material.id)
            if material.name in by_material_name:
                materials_seen.union(by_material_name[material.name], material.id)
            else:
                by_material_name[material.name] = material.id
    for group in same_materials or []:
        ids = [
            m.id
            for c, n in _pairs(group)
            if c in by_code
            for m in by_code[c].materials
            if m.name == n
        ]
        for other in ids[1:]:
            materials_seen.union(ids[0], other)
    for group in materials_seen.groups():
        shape.materials.append(SharedMaterial(key=group[0], members=[materials[i] for i in group]))
    return shape


def _pairs(group) -> list[tuple[str, str]]:
    """``["CODE:name", ...]`` → ``[(code, name), ...]``."""
    pairs = []
    for text in group if isinstance(group, list) else []:
        code, sep, name = str(text).partition(":")
        if sep:
            pairs.append((code.strip(), name.strip()))
    return pairs


def shape_of(session, package: ItemPackage) -> Shape:
    return _shape(session, package.items, package.same_fields, package.same_materials)


def shape_of_item(session, item: Item) -> Shape:
    return _shape(session, [item], [], [])


# --- the catalog -------------------------------------------------------------------------


def published(session) -> list[ItemPackage]:
    return list(
        session.scalars(
            select(ItemPackage)
            .where(ItemPackage.status == ItemStatus.PUBLISHED)
            .order_by(ItemPackage.code)
        )
    )


def published_package(session, code: str) -> ItemPackage | None:
    package = session.scalars(select(ItemPackage).where(ItemPackage.code == code)).first()
    if package is None or package.status != ItemStatus.PUBLISHED:
        return None
    return package


def packages_with(session, item: Item) -> list[ItemPackage]:
    """The published packages an item belongs to (its guide points to them)."""
    return [p for p in published(session) if item in p.items]
