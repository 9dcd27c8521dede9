"""我的办件: the cases an applicant may follow, in public words.

A case is the applicant's when their account submitted it, or linked it with the
case's number and query password (which also verifies the account: 实名核验), or,
once the account is verified, when it was received for their ID number at a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from app.cases import services
from app.cases.packages import progress
from app.engine import platform_runtime
from app.errors import DomainError
from app.models.applicants import Applicant
from app.models.cases import Case, CaseDocument, CaseEvent, CasePackage, CasePause
from app.models.payments import Payment
from app.vocabulary import CaseEventKind, CaseStatus, PaymentStatus
from workflows.timeutil import utcnow

PAGE_SIZE = 20
PUBLIC_EVENTS = {kind: kind.label for kind in CaseEventKind.public()}


class LinkRefused(DomainError):
    status = 404


def mine(applicant: Applicant):
    """Which cases are the applicant's (a SQL condition)."""
    own = Case.applicant_account_id == applicant.id
    if not applicant.verified:
        return own
    return or_(
        own,
        and_(
            Case.applicant_id_number == applicant.id_number, Case.applicant_type == applicant.kind
        ),
    )


def cases(session, applicant: Applicant, page: int = 1) -> list[Case]:
    return list(
        session.scalars(
            select(Case)
            .where(mine(applicant))
            .order_by(Case.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )


def case_of(session, applicant: Applicant, number: str) -> Case | None:
    return session.scalars(select(Case).where(Case.number == number, mine(applicant))).first()


def packages(session, applicant: Applicant) -> list[CasePackage]:
    """The 一件事 packages with a case of the applicant's, newest first."""
    theirs = select(Case.package_case_id).where(mine(applicant), Case.package_case_id.is_not(None))
    return list(
        session.scalars(
            select(CasePackage)
            .where(CasePackage.id.in_(theirs))
            .order_by(CasePackage.id.desc())
            .limit(PAGE_SIZE)
        )
    )


def package_of(session, applicant: Applicant, number: str) -> CasePackage | None:
    """A package the applicant may follow: one of its cases is theirs."""
    theirs = select(Case.package_case_id).where(mine(applicant), Case.package_case_id.is_not(None))
    return session.scalars(
        select(CasePackage).where(CasePackage.number == number, CasePackage.id.in_(theirs))
    ).first()


def events(session, case: Case) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(PUBLIC_EVENTS))
            .order_by(CaseEvent.id)
        )
    )


def document_of(session, case: Case, doc_id: int) -> CaseDocument | None:
    return session.scalars(
        select(CaseDocument).where(CaseDocument.case_id == case.id, CaseDocument.id == doc_id)
    ).first()


def current_steps(session, case: Case) -> list[str]:
    """The names of the steps the case is at (the diagram's Chinese names)."""
    if case.instance is None or case.status not in CaseStatus.in_progress():
        return []
    return [w.name for w in platform_runtime(session).open_work_items(case.instance.id)]


STAGE = {
    CaseStatus.APPLIED: "已提交，等待窗口预审",
    CaseStatus.CORRECTING: "需要补正材料",
    CaseStatus.ACCEPTED: "已受理，正在办理",
    CaseStatus.PROCESSING: "正在办理",
    CaseStatus.DECIDED: "已办结，等待领取结果",
    CaseStatus.DELIVERED: "已送达",
    CaseStatus.REFUSED: "不予受理",
    CaseStatus.WITHDRAWN: "已撤件",
    CaseStatus.TERMINATED: "已终止",
}


def stage(case: Case) -> str:
    return STAGE.get(case.status, case.status_zh)


@dataclass
class Reminder:
    """Something a case needs from the applicant (站内消息)."""

    case: Case
    text: str
    level: str  # bootstrap colour


def reminders(session, applicant: Applicant) -> list[Reminder]:
    """What needs the applicant now: 补正, a fee to pay, collection of a result."""
    found = session.scalars(
        select(Case)
        .where(mine(applicant), Case.status.in_((CaseStatus.CORRECTING, CaseStatus.DECIDED)))
        .order_by(Case.id.desc())
        .limit(PAGE_SIZE)
    )
    out, told = [], set()
    for case in found:
        if case.status == CaseStatus.CORRECTING:
            out.append(
                Reminder(case, "窗口要求补正，请按一次性告知书上传材料后重新提交。", "warning")
            )
        elif case.package_case_id is not None:
            bundle = case.package_case
            if not progress(bundle).ready:
                text = "已办结；一件事的其他事项办结后，由一件事窗口统一出证。"
            elif bundle.id in told:
                continue
            else:
                told.add(bundle.id)
                where = bundle.package.window or "一件事窗口"
                text = f"一件事“{bundle.package.name}”已全部办结，请到{where}统一领取结果。"
            out.append(Reminder(case, text, "success"))
        else:
            out.append(Reminder(case, "已办结，请按通知领取结果或等待送达。", "success"))
    due = session.scalars(
        select(Payment)
        .join(Case, Case.id == Payment.case_id)
        .where(mine(applicant), Payment.status == PaymentStatus.DUE)
        .order_by(Payment.id.desc())
        .limit(PAGE_SIZE)
    )
    for payment in due:
        text = f"待缴费 {payment.amount_due} 元，请查看缴费通知书并到窗口缴纳。"
        out.append(Reminder(payment.case, text, "danger"))
    paused = session.scalars(
        select(Case)
        .join(CasePause, CasePause.case_id == Case.id)
        .where(mine(applicant), CasePause.kind == "correction", CasePause.ended_at.is_(None))
        .order_by(Case.id.desc())
        .limit(PAGE_SIZE)
    )
    for case in paused:
        text = "审查部门要求补正材料，请查看补正材料通知书并在线提交。"
        out.append(Reminder(case, text, "warning"))
    return out


def link(session, applicant: Applicant, number: str, password: str) -> Case:
    """Add a case received at a window to 我的办件 by its number and query password.

    The case must have been received for the account's own ID number; the password
    proves the applicant holds the window's receipt, so the account is verified too.
    """
    case = session.scalars(select(Case).where(Case.number == number.strip())).first()
    if case is None or not services.query_password_matches(case, password):
        raise LinkRefused("办件编号或查询密码不正确，请核对申请材料接收凭证。")
    if case.applicant_id_number != applicant.id_number or case.applicant_type != applicant.kind:
        raise LinkRefused("该办件的申请人证件号码与您的账户不一致，不能添加。", status=403)
    if case.applicant_account_id not in (None, applicant.id):
        raise LinkRefused("该办件已由其他账户添加。", status=409)
    case.applicant_account_id = applicant.id
    if not applicant.verified:
        applicant.verified_at, applicant.verified_by = utcnow(), f"case:{case.number}"
    return case
