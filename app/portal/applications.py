"""网上申报: an applicant fills an online item's intake form, uploads its materials,
saves a draft (暂存) and submits; the submission is received like an application at
the counter (channel 网上) and waits in its window's 网上预审 queue. When the window
asks for 补正, the applicant answers online without retyping. Plain values in and out.

A 一件事 package is applied for the same way: one combined form, one material list
(``app/items/packages.py``); its submission makes one case per item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.cases import corrections, library, packages, services
from app.cases.errors import CaseError
from app.cases.intake_form import intake_schema
from app.errors import Conflict, DomainError
from app.files import store
from app.items.packages import FormProblems, Shape, shape_of, shape_of_item
from app.models.applicants import Applicant, OnlineApplication
from app.models.cases import Case, CaseDocument, CaseMaterial, CasePackage, CasePause
from app.models.items import Item, ItemPackage
from app.models.library import LibraryEntry
from app.models.org import Region
from app.vocabulary import CaseChannel, CaseEventKind, CaseStatus, ItemStatus
from workflows.timeutil import utcnow

MAX_DRAFTS = 20  # open drafts per applicant
PLACE_LEVELS = ("county", "township", "village")


class ApplicationRefused(DomainError):
    """An online application that cannot be saved or submitted as sent."""


@dataclass
class Upload:
    content: bytes
    filename: str


@dataclass
class Changes:
    """What one save of the application page sends."""

    revision: int
    place_id: int | None = None
    contact_name: str | None = None
    answers: dict = field(default_factory=dict)
    uploads: dict[int, Upload] = field(default_factory=dict)  # by item material id
    removed: set[int] = field(default_factory=set)
    reused: dict[int, int] = field(default_factory=dict)  # item material id → library entry id


# --- drafts --------------------------------------------------------------------------


def applicable(item: Item | None) -> bool:
    return item is not None and item.status == ItemStatus.PUBLISHED and item.online


def package_applicable(package: ItemPackage | None) -> bool:
    return package is not None and package.status == ItemStatus.PUBLISHED and package.online


def shape(session, draft: OnlineApplication) -> Shape:
    """What the draft asks: its item's form and materials, or its package's combined ones.

    Read once per loaded draft (each item's form comes from its deployed diagram): a
    page saves, checks, offers and lists what is missing from the same shape.
    """
    found = draft.__dict__.get("_shape")
    if found is None:
        if draft.package is not None:
            found = shape_of(session, draft.package)
        else:
            found = shape_of_item(session, draft.item)
        draft.__dict__["_shape"] = found
    return found


def _open(draft: OnlineApplication) -> bool:
    if draft.package is not None:
        return package_applicable(draft.package)
    return applicable(draft.item)


def start(
    session, applicant: Applicant, item: Item | None = None, package: ItemPackage | None = None
) -> OnlineApplication:
    """The applicant's open draft for ``item`` (or the 一件事 ``package``), or a new one."""
    if not (applicable(item) if package is None else package_applicable(package)):
        raise ApplicationRefused("该事项暂不支持网上申报，请到窗口办理。")
    which = (
        OnlineApplication.package_id == package.id
        if package is not None
        else OnlineApplication.item_id == item.id
    )
    found = session.scalars(
        select(OnlineApplication).where(
            OnlineApplication.applicant_id == applicant.id,
            which,
            OnlineApplication.case_id.is_(None),
            OnlineApplication.package_case_id.is_(None),
        )
    ).first()
    if found is not None:
        return found
    count = session.scalar(
        select(func.count(OnlineApplication.id)).where(
            OnlineApplication.applicant_id == applicant.id,
            OnlineApplication.case_id.is_(None),
            OnlineApplication.package_case_id.is_(None),
        )
    )
    if count >= MAX_DRAFTS:
        raise ApplicationRefused(f"暂存的申请已有 {MAX_DRAFTS} 件，请先提交或删除不用的草稿。")
    draft = OnlineApplication(
        applicant=applicant, item=item, package=package, data={}, materials={}
    )
    session.add(draft)
    session.flush()
    return draft


def drafts(session, applicant: Applicant) -> list[OnlineApplication]:
    return list(
        session.scalars(
            select(OnlineApplication)
            .where(
                OnlineApplication.applicant_id == applicant.id,
                OnlineApplication.case_id.is_(None),
                OnlineApplication.package_case_id.is_(None),
            )
            .order_by(OnlineApplication.updated_at.desc())
        )
    )


def own_draft(session, applicant: Applicant, draft_id: int) -> OnlineApplication | None:
    draft = session.get(OnlineApplication, draft_id)
    if draft is None or draft.applicant_id != applicant.id:
        return None
    return draft


def places(session) -> list[Region]:
    """Where an application may be made: every county, township and village."""
    return list(
        session.scalars(select(Region).where(Region.level.in_(PLACE_LEVELS)).order_by(Region.path))
    )


def _store(session, uploads: dict[int, Upload], allowed: set[int], prefix: str) -> dict:
    """Check and store each upload (the window's checks); every refusal named at once."""
    stored, problems = {}, {}
    for key, upload in uploads.items():
        if key not in allowed:
            continue
        try:
            blob = store.store(session, upload.content, upload.filename)
        except store.FileRejected as exc:
            problems[f"{prefix}{key}"] = exc.message
            continue
        stored[key] = {"sha256": blob.sha256, "filename": store.safe_name(upload.filename)}
    if problems:
        raise ApplicationRefused("上传的文件有误，请按提示重新选择。", fields=problems)
    return stored


def _answers(asked: Shape, answers: dict) -> dict:
    keys = {f.key for f in asked.fields}
    return {k: v for k, v in answers.items() if k in keys}


def save(session, draft: OnlineApplication, changes: Changes) -> None:
    """暂存: keep what was typed and uploaded; a missing answer may wait, a wrong one not."""
    if draft.submitted:
        raise Conflict("该申请已提交，不能再修改；请在“我的办件”中查看。")
    if changes.revision != draft.revision:
        raise Conflict("这份申请已在其他页面保存过，请核对当前内容后重新填写。")
    if changes.place_id is not None:
        place = session.get(Region, changes.place_id)
        if place is None or place.level not in PLACE_LEVELS:
            raise ApplicationRefused("请选择办理地点。", "place")
        draft.place_id = place.id
    draft.contact_name = (changes.contact_name or "").strip()[:80] or None
    asked = shape(session, draft)
    answers = _answers(asked, changes.answers)
    try:
        asked.check(answers, complete=False)
    except FormProblems as exc:
        raise ApplicationRefused(exc.message, fields=exc.fields) from None
    materials = {k: v for k, v in (draft.materials or {}).items() if int(k) not in changes.removed}
    materials.update(_reused(session, draft, changes.reused))
    allowed = {m.key for m in asked.materials}
    stored = _store(session, changes.uploads, allowed, "material-")
    materials.update({str(k): v for k, v in stored.items()})
    draft.data, draft.materials = answers, materials
    draft.updated_at = utcnow()


def offers(session, draft: OnlineApplication) -> dict[int, list[LibraryEntry]]:
    """The 资料共享库 entries the applicant may reuse, per material (verified only)."""
    applicant = draft.applicant
    if not applicant.verified:
        return {}
    found: dict[int, list[LibraryEntry]] = {}
    for asked in shape(session, draft).materials:
        for member in asked.members:
            offered = library.offers_for(session, applicant.kind, applicant.id_number, member.item)
            for entry in offered.get(member.id, []):
                if entry not in found.setdefault(asked.key, []):
                    found[asked.key].append(entry)
    return {k: v for k, v in found.items() if v}


def _reused(session, draft: OnlineApplication, reused: dict[int, int]) -> dict:
    chosen = {}
    offered = offers(session, draft) if reused else {}
    for material_id, entry_id in reused.items():
        entry = next((e for e in offered.get(material_id, []) if e.id == entry_id), None)
        if entry is None:
            raise ApplicationRefused(
                "所选的共享材料不能用于这项材料。", fields={f"material-{material_id}": "请重新选择"}
            )
        chosen[str(material_id)] = {"library": entry.id, "filename": entry.name}
    return chosen


def missing(session, draft: OnlineApplication) -> list[str]:
    return [
        m.name
        for m in shape(session, draft).materials
        if m.required and str(m.key) not in draft.materials
    ]


def submit(session, draft: OnlineApplication) -> tuple[Case | CasePackage, str]:
    """提交: received like an application at the counter, channel 网上, clock not started.

    Everything the window needs must be there: the place, every answer, every required
    material; what is missing is named all at once. A package gives its ``CasePackage``
    (one case per item), an item its ``Case``.
    """
    if draft.submitted:
        raise Conflict("该申请已提交，请勿重复提交。")
    if not _open(draft):
        raise ApplicationRefused("该事项已停止网上申报，请到窗口办理。")
    asked = shape(session, draft)
    problems = {}
    if draft.place_id is None:
        problems["place"] = "请选择办理地点。"
    for material in asked.materials:
        if material.required and str(material.key) not in draft.materials:
            problems[f"material-{material.key}"] = "请上传此项必要材料。"
    problems.update(asked.problems(draft.data or {}, complete=True))
    if problems:
        raise ApplicationRefused("申请还不完整，请按提示补齐后再提交。", fields=problems)
    applicant = draft.applicant
    who = services.Applicant(
        type=applicant.kind,
        name=applicant.name,
        id_number=applicant.id_number,
        phone=applicant.phone,
        contact_name=draft.contact_name or applicant.contact,
    )
    place = session.get(Region, draft.place_id)
    uploaded = {int(k) for k, v in draft.materials.items() if "sha256" in v}
    if draft.package is not None:
        try:
            bundle, cases, password = packages.receive_package(
                session,
                packages.PackageIntake(
                    package=draft.package,
                    applicant=who,
                    place=place,
                    answers=dict(draft.data or {}),
                    received=uploaded,
                    channel=CaseChannel.ONLINE,
                    account_id=applicant.id,
                ),
                None,
            )
        except CaseError as exc:
            raise ApplicationRefused(exc.message, fields=exc.field_errors()) from None
        draft.package_case_id, draft.submitted_at = bundle.id, utcnow()
        for case in cases:
            _attach(session, asked, draft, case)
        return bundle, password
    intake = services.Intake(
        item=draft.item,
        applicant=who,
        place=place,
        received=asked.received_for(draft.item, uploaded),
        channel=CaseChannel.ONLINE,
        data=asked.answers_for(draft.item, draft.data or {}),
    )
    case, password = services.receive(session, intake, actor=None)
    case.applicant_account_id = applicant.id
    _attach(session, asked, draft, case)
    draft.case_id, draft.submitted_at = case.id, utcnow()
    return case, password


def _attach(session, asked: Shape, draft: OnlineApplication, case: Case) -> None:
    """The draft's files on the case's materials; 资料共享库 entries reused, checked again
    now (consent, validity). A shared entry a material cannot take stays for 补正."""
    key_of = {m.id: shared.key for shared in asked.materials for m in shared.members}
    for material in case.materials:
        key = key_of.get(material.item_material_id)
        upload = draft.materials.get(str(key)) if key is not None else None
        if upload and "sha256" in upload:
            material.blob_sha256, material.filename = upload["sha256"], upload["filename"]
        elif upload:
            entry = session.get(LibraryEntry, upload["library"])
            if entry is not None and draft.package is not None:
                offered = library.offers_for(
                    session, case.applicant_type, case.applicant_id_number, case.item
                )
                if entry not in offered.get(material.item_material_id, []):
                    continue
            try:
                if entry is None:
                    raise CaseError("所选的共享材料已不存在。")
                library.reuse(session, case, material, entry, None)
            except CaseError as exc:
                field = f"material-{key}"
                raise ApplicationRefused(exc.message, fields={field: exc.message}) from None


def delete(session, draft: OnlineApplication) -> None:
    if draft.submitted:
        raise Conflict("已提交的申请不能删除；需要撤回的，请联系受理窗口撤件。")
    session.delete(draft)


# --- 补正 online ------------------------------------------------------------------------


def correction_notice(session, case: Case) -> CaseDocument | None:
    """The 一次性告知书 the case waits on, if it waits for 补正 at intake."""
    if case.status != CaseStatus.CORRECTING:
        return None
    return session.scalars(
        select(CaseDocument)
        .where(CaseDocument.case_id == case.id, CaseDocument.kind == "correction")
        .order_by(CaseDocument.id.desc())
    ).first()


def resubmit(session, case: Case, answers: dict | None, uploads: dict[int, Upload]) -> None:
    """补正 online: upload what the notice asks (a material may be replaced), correct the
    answers, and hand the application back to the window; nothing is typed again."""
    if case.status != CaseStatus.CORRECTING:
        raise Conflict("该办件现在不需要补正。")
    by_id = {m.id: m for m in case.materials}
    stored = _store(session, uploads, set(by_id), "material-")
    problems = {
        f"material-{m.id}": "请上传此项必要材料。"
        for m in services.missing_materials(case)
        if m.id not in stored
    }
    if problems:
        raise ApplicationRefused("补正告知的材料还没有上传齐全。", fields=problems)
    if answers is not None and intake_schema(session, case.item):
        try:
            services.correct_application(session, case, None, answers)
        except CaseError as exc:
            raise ApplicationRefused(exc.message, fields=exc.field_errors()) from None
    came = set()
    for material_id, upload in stored.items():
        material = by_id[material_id]
        material.blob_sha256, material.filename = upload["sha256"], upload["filename"]
        if case.instance_id is not None:
            store.bind(session, upload["sha256"], case.instance_id)
        came.add(material_id)
    try:
        services.receive_correction(session, case, None, came)
    except CaseError as exc:
        raise ApplicationRefused(exc.message, fields=exc.field_errors()) from None


# --- 补正 asked inside the process, answered online ------------------------------------

MAX_SUPPLEMENTS = 30  # files sent online for one case's in-process 补正 rounds
NOTE_LIMIT = 500


def supplement(session, case: Case, uploads: dict[int, Upload], note: str = "") -> list[str]:
    """The applicant's files for what a department asked (补正 inside the process).

    ``uploads`` are keyed by the number of the item on the 补正材料通知书 (1, 2, …).
    They are kept as materials of the case, received online; the window still records
    the 补正 received on its own step, which restarts the clock. Returns the names sent.
    """
    asked = corrections.waiting_correction(case)
    if asked is None or asked.document is None:
        raise Conflict("该办件现在不需要补正材料。")
    wanted = {number: name for number, name in enumerate(asked.items, start=1)}
    chosen = {k: v for k, v in uploads.items() if k in wanted}
    if not chosen:
        raise ApplicationRefused("请至少上传一份补正材料。", "supplement-1")
    sent = sum(1 for m in case.materials if m.item_material_id is None and m.received_round)
    if sent + len(chosen) > MAX_SUPPLEMENTS:
        raise ApplicationRefused(f"网上补正材料最多 {MAX_SUPPLEMENTS} 份，请到窗口提交。")
    stored = _store(session, chosen, set(wanted), "supplement-")
    now = utcnow()
    round_ = session.scalar(  # the n-th 补正 asked inside the process
        select(func.count(CasePause.id)).where(
            CasePause.case_id == case.id, CasePause.kind == "correction"
        )
    )
    names = []
    for number, upload in sorted(stored.items()):
        name = f"{wanted[number]}（补正）"[:200]
        case.materials.append(
            CaseMaterial(
                name=name,
                required=False,
                received=True,
                received_at=now,
                received_round=round_,
                blob_sha256=upload["sha256"],
                filename=upload["filename"],
            )
        )
        if case.instance_id is not None:
            store.bind(session, upload["sha256"], case.instance_id)
        names.append(wanted[number])
    text = "、".join(names)
    note = (note or "").strip()[:NOTE_LIMIT]
    services.record(
        session,
        case,
        CaseEventKind.CORRECTION_SUBMITTED,
        None,
        f"{text}{'；' + note if note else ''}",
    )
    return names
