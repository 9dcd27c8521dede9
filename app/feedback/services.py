"""好差评: rating a finished case, 差评整改 started by a bad grade, the monthly results.

A rating belongs to one case (一次一评); the applicant may change it for
``RATING_CHANGE_DAYS`` days. It is attached, when given, to the case's lead
department, its receiving window and the people who handled its steps, so that the
statistics read it without walking the process again. 不满意 and 非常不满意 start a
差评整改 case (``ZX-CPZG``, bpmn/rectification): an ordinary diagram with its limits,
cards and 督办; the 回访 step may record a new grade, the first stays on the rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import case as when
from sqlalchemy import func, select

from app.cases import services
from app.cases.errors import CaseError
from app.clock import center_clock
from app.errors import Conflict
from app.models.cases import Case
from app.models.feedback import CaseRating
from app.models.items import FEEDBACK_KIND, Item
from app.models.org import Department
from app.routing.windows import receiving_window
from app.vocabulary import CaseChannel, CaseEventKind, CaseStatus, RatingChannel, RatingLevel
from workflows import models as wm

RECTIFICATION = "ZX-CPZG"  # 差评整改
COMPLAINT = "ZX-TSCL"  # 投诉处理
CANNOT_DO = "ZX-BBCS"  # 办不成事反映
RATING_CHANGE_DAYS = 7
COMMENT_LIMIT = 500
# the tags an applicant may pick: what went well, what went wrong
GOOD_TAGS = ("办事效率高", "一次办成", "服务态度好", "指引清楚", "材料精简")
BAD_TAGS = ("等待时间长", "多次跑腿", "材料要求多", "服务态度差", "标准不清楚", "系统不好用")
TAGS = GOOD_TAGS + BAD_TAGS
RATED_STATUSES = (CaseStatus.DECIDED, CaseStatus.DELIVERED)


class RatingRefused(CaseError):
    """A rating that cannot be taken as sent."""


def change_days() -> int:
    return int(current_app.config.get("RATING_CHANGE_DAYS", RATING_CHANGE_DAYS))


def may_rate(case: Case) -> bool:
    """A case of an approval item, decided or delivered (监督件 are not rated)."""
    return case.item.kind != FEEDBACK_KIND and case.status in RATED_STATUSES


def rating_of(session, case: Case) -> CaseRating | None:
    return session.scalars(select(CaseRating).where(CaseRating.case_id == case.id)).first()


def changeable(rating: CaseRating | None, now: datetime) -> bool:
    """A first rating may always be given; a given one may be changed for a few days."""
    return rating is None or now - rating.rated_at <= timedelta(days=change_days())


def change_until(rating: CaseRating) -> datetime:
    return rating.rated_at + timedelta(days=change_days())


@dataclass
class Grade:
    """What the applicant sends: a level, tags, a comment."""

    level: str
    tags: list[str]
    comment: str = ""

    def checked(self) -> tuple[RatingLevel, list[str], str | None]:
        level = RatingLevel.parse(self.level)
        if level is None:
            raise RatingRefused("请选择评价等级。", "level")
        unknown = [t for t in self.tags if t not in TAGS]
        if unknown:
            raise RatingRefused("评价标签不正确，请重新选择。", "tags")
        comment = (self.comment or "").strip()
        if len(comment) > COMMENT_LIMIT:
            raise RatingRefused(f"评价内容最多 {COMMENT_LIMIT} 个字。", "comment")
        if level.is_bad and not comment and not self.tags:
            raise RatingRefused("请选择或写明不满意的原因，便于我们核实整改。", "comment")
        return level, list(dict.fromkeys(self.tags)), comment or None


def rate(session, case: Case, grade: Grade, channel: RatingChannel) -> CaseRating:
    """Give or change the rating of a finished case; a bad first grade starts 差评整改."""
    if not may_rate(case):
        raise Conflict("办件办结后才能评价。")
    level, tags, comment = grade.checked()
    now = center_clock(session).now()
    rating = rating_of(session, case)
    if not changeable(rating, now):
        raise Conflict(f"评价后 {change_days()} 天内可以修改，已超过修改期限。")
    if rating is None:
        rating = CaseRating(case_id=case.id, case=case, first_level=level, rated_at=now)
        rating.department_id = case.lead_department_id
        rating.window_id = _window_of(session, case)
        rating.handlers = handlers_of(session, case)
        session.add(rating)
        what = f"评价：{level.label}"
    else:
        rating.changed_at = now
        what = f"修改评价：{RatingLevel.label_of(rating.level)} → {level.label}"
    rating.level, rating.tags, rating.comment, rating.channel = level, tags, comment, channel
    session.flush()
    services.record(session, case, CaseEventKind.RATED, None, f"{what}（{channel.label}）")
    if level.is_bad and rating.rectification_case_id is None:
        rating.rectification = start_rectification(session, rating)
        session.flush()
    return rating


def handlers_of(session, case: Case) -> list[str]:
    """Who handled the case: the receiver, the acceptor, everyone who completed a step."""
    names = [case.received_by, case.accepted_by]
    if case.instance_id is not None:
        names += session.scalars(
            select(wm.WorkItem.completed_by)
            .where(
                wm.WorkItem.instance_id == case.instance_id, wm.WorkItem.completed_by.is_not(None)
            )
            .order_by(wm.WorkItem.completed_at, wm.WorkItem.id)
        ).all()
    return [n for n in dict.fromkeys(names) if n and n != "system"]


def _window_of(session, case: Case) -> int | None:
    posts = receiving_window(session, case.received_by, case.place)
    return posts[0].department_id if posts else None


def feedback_item(session, code: str) -> Item:
    item = session.scalars(select(Item).where(Item.code == code)).first()
    if item is None or item.kind != FEEDBACK_KIND:
        raise CaseError("平台未配置该监督事项（差评整改、投诉处理、办不成事反映），请联系管理员。")
    return item


def start_rectification(session, rating: CaseRating) -> Case:
    """差评整改: a case of ``ZX-CPZG`` about the rated case, accepted at once."""
    rated = rating.case
    applicant = services.Applicant(
        rated.applicant_type,
        rated.applicant_name,
        rated.applicant_id_number,
        rated.applicant_phone,
        anonymous=not rated.applicant_id_number,
    )
    data = {
        "rated_case_number": rated.number,
        "rated_item_name": rated.item.name,
        "rating_level": RatingLevel.label_of(rating.level),
        "rating_comment": "；".join([*rating.tags, rating.comment or ""]).strip("；")
        or "（未填写）",
        "responsible_department": rated.lead_department.name if rated.lead_department else "",
    }
    intake = services.Intake(
        item=feedback_item(session, RECTIFICATION),
        applicant=applicant,
        place=rated.place,
        channel=CaseChannel.RATING,
        data=data,
    )
    case, _password = services.receive(session, intake, None)
    case.applicant_account_id = rated.applicant_account_id
    services.accept(session, case, None)
    return case


class RectificationObserver:
    """Reads two answers of a 差评整改's steps: ``measures`` (the department's 整改, the
    差评 counts as rectified) and ``new_level`` (the applicant's new grade at 回访)."""

    def instance_saved(self, session, instance, completed) -> None:
        answers = [w.data or {} for w in completed]
        if not any(a.get("measures") or a.get("new_level") for a in answers):
            return
        rating = session.scalars(
            select(CaseRating)
            .join(Case, Case.id == CaseRating.rectification_case_id)
            .where(Case.instance_id == instance.id)
        ).first()
        if rating is None:
            return
        for answer in answers:
            if answer.get("measures") and rating.rectified_at is None:
                rating.rectified_at = center_clock(session).now()
            new = RatingLevel.parse(answer.get("new_level"))
            if new is None or rating.level == new:
                continue
            before = RatingLevel.label_of(rating.level)
            rating.level, rating.channel = new, RatingChannel.CALLBACK
            rating.changed_at = center_clock(session).now()
            services.record(
                session,
                rating.case,
                CaseEventKind.RATED,
                None,
                f"回访后重新评价：{before} → {new.label}",
            )


# --- the public results ---------------------------------------------------------------


@dataclass
class Score:
    department: str
    ratings: int
    satisfied: int
    bad: int
    rectified: int

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None


def month_bounds(session, month: date) -> tuple[datetime, datetime]:
    clock = center_clock(session)
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return clock.start_of_day(first), clock.start_of_day(following)


def month_scores(session, month: date) -> list[Score]:
    """Per department, the ratings given in the month: 满意率 (非常满意、满意、基本满意 of
    all, with the grade after any 回访), 差评 (first grade bad) and 差评 rectified."""
    start, end = month_bounds(session, month)
    satisfied = when((CaseRating.level.in_(("5", "4", "3")), 1), else_=0)
    bad = when((CaseRating.first_level.in_(("2", "1")), 1), else_=0)
    rectified = when((CaseRating.rectified_at.is_not(None), 1), else_=0)
    rows = session.execute(
        select(
            Department.name,
            func.count(CaseRating.id),
            func.sum(satisfied),
            func.sum(bad),
            func.sum(rectified),
        )
        .join(Department, Department.id == CaseRating.department_id)
        .where(CaseRating.rated_at >= start, CaseRating.rated_at < end)
        .group_by(Department.name)
        .order_by(Department.name)
    ).all()
    return [Score(name, n, int(s or 0), int(b or 0), int(r or 0)) for name, n, s, b, r in rows]
