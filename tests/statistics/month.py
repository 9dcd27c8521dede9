"""The hand-counted month the statistics tests share (its fixture: ``march``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.cases.services import decision_facts
from app.clock import center_clock
from app.models.cases import Case, CaseDocument, CasePause
from app.models.items import Item
from app.models.org import Department, Region
from app.models.supervision import CaseWarning, Deduction

TOWN = "490102100000"  # 城关街道
VILLAGE = "490102100001"  # 东河社区, in 城关街道


def moment(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock Beijing time on ``day`` as the naive UTC stored."""
    return datetime.combine(day, time(hour)) - timedelta(hours=8)


def d(text: str) -> date:
    return date.fromisoformat(f"2026-{text}")


class Cases:
    def __init__(self, session):
        self.session = session
        self.items = {i.code: i for i in session.scalars(select(Item))}
        self.village = session.scalars(select(Region).where(Region.code == VILLAGE)).one()
        self.county = session.scalars(select(Region).where(Region.level == "county")).first()
        self.elsewhere = session.scalars(
            select(Region).where(Region.level == "village", ~Region.path.startswith(self.town.path))
        ).first()
        self.count = 0

    @property
    def town(self) -> Region:
        return self.session.scalars(select(Region).where(Region.code == TOWN)).one()

    def add(self, code, status, received, *, accepted=None, promised=None, decided=None,
            delivered=None, closed=None, channel="window", place=None) -> Case:  # fmt: skip
        self.count += 1
        item = self.items[code]
        case = Case(
            number=f"4901022026030{self.count:06d}",
            item=item,
            status=status,
            channel=channel,
            applicant_type="person",
            applicant_name="周建华",
            applicant_id_number="11010519491231002X",
            applicant_phone="13900000000",
            place=place or self.village,
            county=self.county,
            lead_department_id=item.lead_department_id,
            data={},
            received_at=moment(received),
            received_by=None if channel == "online" else "center_clerk",
            accepted_at=moment(accepted) if accepted else None,
            promised_date=promised,
            decided_at=moment(decided, 15) if decided else None,
            delivered_at=moment(delivered, 16) if delivered else None,
            closed_at=moment(closed or delivered, 16) if (closed or delivered) else None,
            result="approve" if decided else None,
        )
        self.session.add(case)
        self.session.flush()
        return case


@pytest.fixture
def march(app, shipped, session):
    """The hand-counted month (see the expected figures in each test)."""
    c = Cases(session)
    food, ad, change = "SCJ-SPXZF-DJ", "ZJJ-HWGG-SZSP", "SCJ-GTGSH-BGDJ"
    a = c.add(
        food,
        "delivered",
        d("03-02"),
        accepted=d("03-02"),
        promised=d("03-11"),
        decided=d("03-10"),
        delivered=d("03-12"),
    )  # early: 6 working days of 7
    c.add(
        food, "decided", d("03-02"), accepted=d("03-02"), promised=d("03-11"), decided=d("03-11")
    )  # on the day: 7
    paused = c.add(
        food, "decided", d("03-02"), accepted=d("03-02"), promised=d("03-13"), decided=d("03-13")
    )  # 2 working days paused: 9 - 2 = 7, on time
    session.add(CasePause(case_id=paused.id, kind="special", procedure="专家评审",
                          started_at=moment(d("03-05")), ended_at=moment(d("03-09")),
                          paused_workdays=2))  # fmt: skip
    late = c.add(
        ad, "decided", d("03-02"), accepted=d("03-02"), promised=d("03-16"), decided=d("03-18")
    )  # two days late: 12 working days
    c.add(
        change,
        "delivered",
        d("03-05"),
        accepted=d("03-05"),
        promised=d("03-05"),
        decided=d("03-05"),
        delivered=None,
        closed=None,
    )  # 即办件: 0
    c.add(food, "refused", d("03-20"), closed=d("03-23"))
    corrected = c.add(food, "correcting", d("03-25"))
    session.add(CaseDocument(case_id=corrected.id, kind="correction", verification_code="BZ0000000001",
                             facts={}, issued_at=moment(d("03-25"))))  # fmt: skip
    c.add(ad, "processing", d("03-16"), accepted=d("03-16"), promised=d("03-30"))  # open, overdue
    c.add(
        food, "decided", d("02-26"), accepted=d("02-26"), promised=d("03-09"), decided=d("03-03")
    )  # across the make-up Saturday 02-28: 4 working days
    c.add(
        food,
        "withdrawn",
        d("03-24"),
        accepted=d("03-24"),
        promised=d("04-02"),
        closed=d("03-26"),
        channel="online",
    )
    c.add(
        change,
        "decided",
        d("03-10"),
        accepted=d("03-10"),
        promised=d("03-10"),
        decided=d("03-10"),
        place=c.elsewhere,
    )  # another township
    c.add(food, "applied", d("04-01"))  # next month: not counted
    c.add("ZX-TSCL", "accepted", d("03-11"), accepted=d("03-11"), promised=d("03-25"))  # 监督件
    session.flush()
    for level, day in (("yellow", "03-16"), ("red", "03-17")):
        session.add(CaseWarning(case_id=late.id, scope="case", level=level,
                                issued_at=moment(d(day)), due=d("03-16"), days_left=0,
                                message="超期"))  # fmt: skip
    handler = session.scalars(
        select(Department).where(Department.name == "县住房和城乡建设局")
    ).one()
    session.add(Deduction(at=moment(d("03-17")), department_id=handler.id, username="zjj_handler",
                          points=Decimal("1.50"), reason="红牌扣分"))  # fmt: skip
    # the decision's day and working days used, as the platform keeps them when deciding
    with app.app_context():
        clock = center_clock(session)
        for decided in session.scalars(select(Case).where(Case.decided_at.is_not(None))):
            decision_facts(session, decided, clock)
    session.commit()
    return {"early": a.number}
