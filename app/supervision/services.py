"""What supervisors read: cases of their regions against their limits, routing decisions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.models.cases import Case
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Region
from app.models.supervision import CaseWarning
from app.vocabulary import CaseStatus, InstanceEventKind, WorkItemStatus
from workflows import models as m

# the board shows what is being worked on and what is decided but not yet delivered
BOARD_STATUSES = (*CaseStatus.in_progress(), CaseStatus.DECIDED)


def _place_codes(regions: list[Region]):
    return select(Region.code).where(or_(*[Region.path.startswith(r.path) for r in regions]))


def _instances_under(regions: list[Region]):
    place = m.ProcessInstance.data["place"].as_string()
    return select(m.ProcessInstance.id).where(place.in_(_place_codes(regions)))


def routing_decisions(session, regions: list[Region], *, limit: int = 20) -> list[m.InstanceEvent]:
    """The latest odd-assignment decisions (nobody found, self-approval…) in the regions."""
    if not regions:
        return []
    return list(
        session.scalars(
            select(m.InstanceEvent)
            .where(
                m.InstanceEvent.kind.in_(
                    (InstanceEventKind.ROUTING_RULE, InstanceEventKind.AUTO_COMPLETED)
                ),
                m.InstanceEvent.instance_id.in_(_instances_under(regions)),
            )
            .order_by(m.InstanceEvent.id.desc())
            .limit(limit)
        )
    )


def cases_under(session, regions: list[Region], status: str | None, *, limit: int, offset: int):
    """Instances whose place lies in one of ``regions`` (and their subtrees)."""
    if not regions:
        return [], 0
    stmt = select(m.ProcessInstance).where(m.ProcessInstance.id.in_(_instances_under(regions)))
    if status:
        stmt = stmt.where(m.ProcessInstance.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(
        stmt.order_by(m.ProcessInstance.id.desc()).limit(limit).offset(offset)
    ).all()
    return rows, total


# --- the board: running cases against their limits ------------------------------------


@dataclass
class BoardFilters:
    region_id: int | None = None  # a township (or county) within the supervisor's regions
    status: str | None = None
    item_id: int | None = None
    department_id: int | None = None
    level: str | None = None  # red | yellow | none
    green: bool = False
    kind: str | None = None  # a key of BOARD_KINDS


# 审批办件 apart from the 监督件 (差评整改、投诉、办不成事; each also by the 事项 filter)
BOARD_KINDS = {"approval": "审批办件", "feedback": "监督件（差评整改、投诉、办不成事）"}


def _places_under(regions: list[Region]):
    return select(Region.id).where(or_(*[Region.path.startswith(r.path) for r in regions]))


def _has_card(level: str):
    return (
        select(CaseWarning.id)
        .where(CaseWarning.case_id == Case.id, CaseWarning.level == level)
        .exists()
    )


def cases_board(session, regions: list[Region], filters: BoardFilters, *, limit: int, offset: int):
    """Cases in the regions, with counts by card; red first, then by promised date."""
    if not regions:
        return [], 0, {"red": 0, "yellow": 0, "none": 0}
    if filters.region_id:
        chosen = [r for r in sub_regions(session, regions) if r.id == filters.region_id]
        regions = chosen or regions
    base = select(Case).where(Case.place_id.in_(_places_under(regions)))
    if filters.status:
        base = base.where(Case.status == filters.status)
    else:
        base = base.where(Case.status.in_(BOARD_STATUSES))
    if filters.item_id:
        base = base.where(Case.item_id == filters.item_id)
    if filters.kind in BOARD_KINDS:
        feedback_items = select(Item.id).where(Item.kind == FEEDBACK_KIND)
        if filters.kind == "feedback":
            base = base.where(Case.item_id.in_(feedback_items))
        else:
            base = base.where(Case.item_id.not_in(feedback_items))
    if filters.department_id:
        base = base.where(Case.lead_department_id == filters.department_id)
    if filters.green:
        base = base.where(Case.green_channel.is_(True))
    counts = {
        "red": session.scalar(
            select(func.count()).select_from(base.where(_has_card("red")).subquery())
        ),
        "yellow": session.scalar(
            select(func.count()).select_from(
                base.where(_has_card("yellow"), ~_has_card("red")).subquery()
            )
        ),
    }
    stmt = base
    if filters.level == "red":
        stmt = stmt.where(_has_card("red"))
    elif filters.level == "yellow":
        stmt = stmt.where(_has_card("yellow"), ~_has_card("red"))
    elif filters.level == "none":
        stmt = stmt.where(~_has_card("yellow"), ~_has_card("red"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    counts["none"] = (
        session.scalar(select(func.count()).select_from(base.subquery()))
        - counts["red"]
        - counts["yellow"]
    )
    rows = session.scalars(
        stmt.order_by(
            _has_card("red").desc(),
            _has_card("yellow").desc(),
            Case.green_channel.desc(),
            Case.promised_date.is_(None),
            Case.promised_date,
            Case.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total, counts


def sub_regions(session, regions: list[Region]) -> list[Region]:
    """The counties and townships within the supervisor's regions, for the region filter."""
    if not regions:
        return []
    return list(
        session.scalars(
            select(Region)
            .where(
                or_(*[Region.path.startswith(r.path) for r in regions]),
                Region.level.in_(("county", "township")),
            )
            .order_by(Region.path)
        )
    )


def cards_of(session, case_ids: list[int]) -> dict[int, list[CaseWarning]]:
    out: dict[int, list[CaseWarning]] = {}
    if not case_ids:
        return out
    for w in session.scalars(
        select(CaseWarning).where(CaseWarning.case_id.in_(case_ids)).order_by(CaseWarning.id)
    ):
        out.setdefault(w.case_id, []).append(w)
    return out


def open_steps(session, instance_ids: list[int]) -> dict[int, list[m.WorkItem]]:
    out: dict[int, list[m.WorkItem]] = {}
    if not instance_ids:
        return out
    for w in session.scalars(
        select(m.WorkItem)
        .where(m.WorkItem.instance_id.in_(instance_ids), m.WorkItem.status == WorkItemStatus.OPEN)
        .order_by(m.WorkItem.id)
    ):
        out.setdefault(w.instance_id, []).append(w)
    return out
