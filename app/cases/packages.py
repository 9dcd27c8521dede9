"""一件事一次办: several items applied for at once, one case each, one package number.

A package (``ItemPackage``) has one combined form and one material list: an answer or
a material that several items need is asked once (same name, or declared the same in
the catalog's ``same_fields``/``same_materials``). One submission, at the window or
online, creates a case per item through ``services.receive`` and links them in a
``CasePackage``. Each case then runs its own diagram; the package's results are handed
out together once every case has ended (统一出证): a member case cannot be delivered
alone. The combined form and material list are app/items/packages.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import select

from app.clock import center_clock
from app.items.packages import FormProblems, shape_of
from app.models.cases import Case, CasePackage
from app.models.items import ItemPackage
from app.models.org import Region
from app.vocabulary import CaseChannel, CaseEventKind, CaseStatus, ItemStatus

from . import services
from .delivery import ENDED
from .errors import CaseError


class PackageError(CaseError):
    """A package submission or delivery that cannot be done as asked."""


# --- receiving ---------------------------------------------------------------------------


@dataclass
class PackageIntake:
    """What the window (or the portal) sends for a package."""

    package: ItemPackage
    applicant: services.Applicant
    place: Region
    answers: dict = field(default_factory=dict)
    received: set[int] = field(default_factory=set)  # keys of shared materials received
    channel: str = CaseChannel.WINDOW
    account_id: int | None = None


def next_package_number(session, county: Region, day) -> str:
    """YJS + county code (6) + date (8) + sequence (4): one per package, per county and day."""
    last = services.next_in_sequence(session, f"Y{county.code[:6]}", day)
    return f"YJS{county.code[:6]}{day:%Y%m%d}{last:04d}"


def receive_package(
    session, intake: PackageIntake, actor: str | None
) -> tuple[CasePackage, list[Case], str]:
    """One submission, one case per item, one package number and one query password.

    Everything is checked before anything is written: the applicant, every item
    published, the answers given (a missing one may wait for the window, as at the
    counter). Returns the package, its cases and the query password (shown once).
    """
    package = intake.package
    if package.status != ItemStatus.PUBLISHED:
        raise PackageError(f"一件事“{package.name}”未发布，不能受理。")
    closed = [i.name for i in package.items if i.status != ItemStatus.PUBLISHED]
    if closed:
        raise PackageError(f"一件事“{package.name}”中的事项暂停办理：{'、'.join(closed)}。")
    found = intake.applicant.problems()
    if found:
        raise PackageError("申请人信息有误。", fields=found)
    shape = shape_of(session, package)
    try:
        shape.check(intake.answers, complete=False)
    except FormProblems as exc:
        raise PackageError(exc.message, fields=exc.fields) from None
    clock = center_clock(session)
    now = clock.now()
    county = services.county_of(session, intake.place)
    bundle = CasePackage(
        number=next_package_number(session, county, clock.day_of(now)),
        package=package,
        channel=intake.channel,
        applicant_name=intake.applicant.name.strip(),
        applicant_id_number=intake.applicant.id_number.strip().upper(),
        applicant_account_id=intake.account_id,
        place_id=intake.place.id,
        county_id=county.id,
        received_at=now,
        received_by=actor,
    )
    session.add(bundle)
    session.flush()
    password = f"{secrets.randbelow(10**6):06d}"
    cases = []
    for item in shape.items:
        case, _ = services.receive(
            session,
            services.Intake(
                item=item,
                applicant=intake.applicant,
                place=intake.place,
                received=shape.received_for(item, intake.received),
                channel=intake.channel,
                data=shape.answers_for(item, intake.answers),
            ),
            actor,
        )
        case.package_case = bundle
        case.applicant_account_id = intake.account_id
        case.query_password_hash = services.query_password_digest(case.number, password)
        services.record(
            session,
            case,
            CaseEventKind.PACKAGED,
            actor,
            f"一件事“{package.name}”（{bundle.number}）共 {len(shape.items)} 项之一",
        )
        cases.append(case)
    session.flush()
    return bundle, cases, password


# --- following a package ------------------------------------------------------------------


@dataclass
class Progress:
    total: int
    ended: int
    decided: int
    delivered: bool

    @property
    def done(self) -> bool:
        return self.ended == self.total

    @property
    def ready(self) -> bool:
        """统一出证 can be done: every case ended, some result to hand out, not yet handed."""
        return self.done and self.decided > 0 and not self.delivered

    @property
    def stage(self) -> str:
        if self.delivered:
            return "已统一出证"
        if self.ready:
            return "全部办结，待统一出证"
        if self.done:
            return "已办结"
        return f"办理中（已办结 {self.ended}/{self.total} 项）"


def progress(bundle: CasePackage) -> Progress:
    cases = bundle.cases
    return Progress(
        total=len(cases),
        ended=sum(1 for c in cases if c.status in ENDED),
        decided=sum(1 for c in cases if c.status == CaseStatus.DECIDED),
        delivered=bundle.delivered_at is not None,
    )


def by_number(session, number: str) -> CasePackage | None:
    return session.scalars(select(CasePackage).where(CasePackage.number == number)).first()


def deliver_package(
    session, bundle: CasePackage, actor: str | None, method: str, receiver: str
) -> list[Case]:
    """统一出证: hand out every decided case of the package at once."""
    state = progress(bundle)
    if state.delivered:
        raise PackageError("这件一件事的结果已经统一送达。")
    if not state.done:
        raise PackageError(
            f"一件事“{bundle.package.name}”还有 {state.total - state.ended} 项未办结，"
            "全部办结后统一出证。"
        )
    if not receiver or not receiver.strip():
        raise PackageError("请填写受送达人。", "receiver")
    decided = [c for c in bundle.cases if c.status == CaseStatus.DECIDED]
    if not decided:
        raise PackageError("这件一件事没有需要送达的结果。")
    in_process = [c for c in decided if services.delivered_in_process(session, c)]
    if in_process:
        raise PackageError(
            "以下事项的结果由流程中的送达步骤送达，请先在待办中办理："
            + "、".join(c.item.name for c in in_process)
        )
    for case in decided:
        services.deliver(session, case, actor, method, receiver, together=True)
    bundle.delivered_at = center_clock(session).now()
    bundle.delivered_by = actor
    return decided
