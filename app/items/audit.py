"""What the audit chain records of the item catalog: items (published, retired,
edited) and their materials."""

from __future__ import annotations

from app.audit.chain import Covered
from app.models.items import Item, ItemMaterial

COVERED = (
    Covered(Item, "items"),
    Covered(ItemMaterial, "items"),
)
