"""资料共享库: what an applicant gave and got in earlier cases, offered for reuse.

Materials are kept when a case is accepted (the files the window received) and
results when a case is approved (the decision, with its verification code); both
belong to the applicant's ID number or credit code. A new case of the same
applicant is offered the entries that match its missing materials: a material by
its name, or, for a 前置审批 material (``ItemMaterial.satisfied_by_item``), a result
of the item it names. Staff reach entries only through a case they may see; the
applicant sees their own and may withdraw their consent, after which an entry is
never offered again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.clock import center_clock
from app.files import store
from app.models.cases import Case, CaseDocument, CaseEvent, CaseMaterial
from app.models.items import Item, ItemMaterial
from app.models.library import LibraryEntry, LibraryUse
from app.vocabulary import CaseEventKind, CaseResult, CaseStatus

from .errors import CaseError


class LibraryRefused(CaseError):
    """A reuse or a change of consent that cannot be done as asked."""

    code = "library_refused"


def holder(kind: str, id_number: str) -> tuple[str, str]:
    return kind, (id_number or "").strip().upper()


def holder_of(case: Case) -> tuple[str, str]:
    return holder(case.applicant_type, case.applicant_id_number)


# --- keeping -----------------------------------------------------------------


def capture_materials(session, case: Case) -> list[LibraryEntry]:
    """Keep the received materials with a file of an accepted case (no duplicates:
    one entry per holder, name and file)."""
    kind, number = holder_of(case)
    today = center_clock(session).today()
    added = []
    for material in case.materials:
        if not material.received or not material.blob_sha256:
            continue
        known = session.scalars(
            select(LibraryEntry.id).where(
                LibraryEntry.holder_type == kind,
                LibraryEntry.holder_id_number == number,
                LibraryEntry.kind == "material",
                LibraryEntry.name == material.name,
                LibraryEntry.blob_sha256 == material.blob_sha256,
            )
        ).first()
        if known is not None or any(
            e.name == material.name and e.blob_sha256 == material.blob_sha256 for e in added
        ):
            continue
        entry = _entry(case, "material", material.name, today)
        entry.blob_sha256, entry.filename = material.blob_sha256, material.filename
        session.add(entry)
        added.append(entry)
    session.flush()
    return added


def result_name(item: Item, document: CaseDocument | None = None) -> str:
    """What an approval of ``item`` issues: the catalog's ``result_name``, else the
    decision's title after the item's name."""
    if item.result_name:
        return item.result_name
    title = (document.facts or {}).get("title") if document is not None else None
    return f"{item.name}{title or '准予行政许可决定书'}"


def capture_result(session, case: Case, document: CaseDocument) -> LibraryEntry | None:
    """Keep the result of an approved case: its decision, valid until the decision says."""
    if case.result != CaseResult.APPROVE or document.kind != "decision":
        return None
    known = session.scalars(
        select(LibraryEntry).where(LibraryEntry.document_id == document.id)
    ).first()
    if known is not None:
        return known
    entry = _entry(case, "result", result_name(case.item, document), _decided_day(session, case))
    entry.document_id = document.id
    entry.valid_until = _date((document.facts or {}).get("valid_until"))
    session.add(entry)
    session.flush()
    return entry


def _entry(case: Case, kind: str, name: str, valid_from: date) -> LibraryEntry:
    holder_type, number = holder_of(case)
    return LibraryEntry(
        holder_type=holder_type,
        holder_id_number=number,
        kind=kind,
        name=name,
        item_code=case.item.code,
        item_name=case.item.name,
        valid_from=valid_from,
        source_case_id=case.id,
    )


def _decided_day(session, case: Case) -> date:
    clock = center_clock(session)
    return clock.day_of(case.decided_at) if case.decided_at else clock.today()


def _date(text) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


# --- offering ----------------------------------------------------------------


def usable(entry: LibraryEntry, today: date) -> bool:
    """Consented and not expired on ``today`` (the center's local day)."""
    return entry.consented and (entry.valid_until is None or entry.valid_until >= today)


def matches(entry: LibraryEntry, name: str, satisfied_by: str | None) -> bool:
    """A material entry of the same name, or a result of the 前置审批 item."""
    if entry.kind == "material":
        return entry.name == name
    return bool(satisfied_by) and entry.item_code == satisfied_by


def _usable_entries(session, holder_type: str, id_number: str) -> list[LibraryEntry]:
    kind, number = holder(holder_type, id_number)
    if not number:
        return []
    today = center_clock(session).today()
    entries = session.scalars(
        select(LibraryEntry)
        .where(
            LibraryEntry.holder_type == kind,
            LibraryEntry.holder_id_number == number,
            LibraryEntry.consent_withdrawn_at.is_(None),
        )
        .order_by(LibraryEntry.created_at.desc(), LibraryEntry.id.desc())
    ).all()
    return [e for e in entries if usable(e, today)]


def _offers(entries, wanted) -> dict[int, list[LibraryEntry]]:
    """``wanted``: (key, name, satisfied_by) per material; keys with no offer are left out."""
    found = {}
    for key, name, satisfied_by in wanted:
        offered = [e for e in entries if matches(e, name, satisfied_by)]
        if offered:
            found[key] = offered
    return found


def offers_for_case(session, case: Case) -> dict[int, list[LibraryEntry]]:
    """The usable entries of the case's applicant, per not-yet-received CaseMaterial id."""
    missing = [m for m in case.materials if not m.received]
    if not missing:
        return {}
    entries = _usable_entries(session, case.applicant_type, case.applicant_id_number)
    if not entries:
        return {}
    satisfied_by = _satisfied_by(session, [m.item_material_id for m in missing])
    return _offers(entries, [(m.id, m.name, satisfied_by.get(m.item_material_id)) for m in missing])


def offers_for(
    session, holder_type: str, id_number: str, item: Item
) -> dict[int, list[LibraryEntry]]:
    """The usable entries of an applicant per ItemMaterial id of ``item`` (before a case
    exists: the portal's online application)."""
    entries = _usable_entries(session, holder_type, id_number)
    if not entries:
        return {}
    return _offers(entries, [(m.id, m.name, m.satisfied_by_item) for m in item.materials])


def _satisfied_by(session, item_material_ids) -> dict[int, str]:
    ids = [i for i in item_material_ids if i is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(ItemMaterial.id, ItemMaterial.satisfied_by_item).where(
            ItemMaterial.id.in_(ids), ItemMaterial.satisfied_by_item.is_not(None)
        )
    )
    return {row.id: row.satisfied_by_item for row in rows}


# --- reusing -----------------------------------------------------------------


def reuse(session, case: Case, case_material: CaseMaterial, entry: LibraryEntry, actor) -> None:
    """Satisfy ``case_material`` with ``entry``: the material counts as received (the
    same file, or the earlier decision), the use and an event are recorded."""
    _check_reuse(session, case, case_material, entry)
    clock = center_clock(session)
    case_material.received, case_material.received_at = True, clock.now()
    if entry.kind == "material":
        case_material.blob_sha256, case_material.filename = entry.blob_sha256, entry.filename
        if case.instance_id is not None:
            store.bind(session, entry.blob_sha256, case.instance_id)
    session.add(
        LibraryUse(entry=entry, case_id=case.id, case_material_id=case_material.id, used_by=actor)
    )
    source = entry.source_case.number
    session.add(
        CaseEvent(
            case_id=case.id,
            kind=CaseEventKind.LIBRARY_REUSED,
            actor=actor,
            message=f"{case_material.name}：复用{entry.kind_zh}“{entry.name}”（办件 {source}）",
            data={"entry_id": entry.id, "material_id": case_material.id, "source": source},
        )
    )
    session.flush()


def _check_reuse(session, case, case_material, entry) -> None:
    if case.status not in (CaseStatus.APPLIED, CaseStatus.CORRECTING):
        raise LibraryRefused(f"办件当前为“{case.status_zh}”，不能再复用共享材料。")
    if case_material.case_id != case.id:
        raise LibraryRefused("该材料不属于本办件。")
    if case_material.received:
        raise LibraryRefused(f"材料“{case_material.name}”已收取，无需复用。")
    if (entry.holder_type, entry.holder_id_number) != holder_of(case):
        raise LibraryRefused("该共享材料不属于本办件的申请人，不能复用。")
    if not entry.consented:
        raise LibraryRefused("申请人已撤回该材料的共享授权，不能复用。")
    today = center_clock(session).today()
    if not usable(entry, today):
        raise LibraryRefused(f"“{entry.name}”已于 {entry.valid_until.isoformat()} 到期，不能复用。")
    satisfied_by = _satisfied_by(session, [case_material.item_material_id])
    if not matches(entry, case_material.name, satisfied_by.get(case_material.item_material_id)):
        raise LibraryRefused(f"“{entry.name}”不能作为“{case_material.name}”复用。")


def uses_by_material(session, case: Case) -> dict[int, LibraryUse]:
    """The library uses of a case, per CaseMaterial id (the case page marks them)."""
    uses = session.scalars(select(LibraryUse).where(LibraryUse.case_id == case.id)).all()
    return {u.case_material_id: u for u in uses}


# --- the applicant's own entries ---------------------------------------------


def entries_of(session, holder_type: str, id_number: str) -> list[LibraryEntry]:
    """Every entry of a holder (expired and withdrawn too), newest first."""
    kind, number = holder(holder_type, id_number)
    return list(
        session.scalars(
            select(LibraryEntry)
            .where(LibraryEntry.holder_type == kind, LibraryEntry.holder_id_number == number)
            .order_by(LibraryEntry.created_at.desc(), LibraryEntry.id.desc())
        )
    )


def entry_of(session, holder_type: str, id_number: str, entry_id: int) -> LibraryEntry | None:
    """The holder's entry by id; None when it is someone else's (or none)."""
    entry = session.get(LibraryEntry, entry_id)
    if entry is None or (entry.holder_type, entry.holder_id_number) != holder(
        holder_type, id_number
    ):
        return None
    return entry


def set_consent(session, entry: LibraryEntry, consent: bool) -> bool:
    """撤回授权 (False) or 恢复授权 (True); whether anything changed."""
    if consent == entry.consented:
        return False
    entry.consent_withdrawn_at = None if consent else center_clock(session).now()
    session.flush()
    return True
