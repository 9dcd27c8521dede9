"""投诉 and 办不成事: filed by an applicant's account, by someone who leaves only a
phone number, or at the hall's 专窗 by a clerk; each becomes a case of its item
(bpmn/complaint, bpmn/cannot_do) tracked with a number and a query password.

An anonymous complainant's phone number is kept for the 回访 and shown only to the
center (``reveals_complainant``); the departments that handle it see "匿名".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.cases import services
from app.cases.identity import phone_problem
from app.files import store
from app.models.cases import Case, CaseMaterial
from app.models.items import FEEDBACK_KIND
from app.models.org import Region
from app.vocabulary import CaseChannel

from .services import CANNOT_DO, COMPLAINT, RatingRefused, feedback_item

SUBJECT_KINDS = {
    "case": "办件",
    "window": "窗口",
    "person": "工作人员",
    "department": "部门",
}
CONTENT_LIMIT = 2000
SHORT_LIMIT = 200
MAX_ATTACHMENTS = 3


class FeedbackRefused(RatingRefused):
    """A complaint or report that cannot be filed as sent (every field named)."""


@dataclass
class Attachment:
    content: bytes
    filename: str


@dataclass
class Voice:
    """A complaint (投诉) or a 办不成事 report, as the form sends it."""

    kind: str  # COMPLAINT | CANNOT_DO
    content: str
    phone: str
    name: str = ""  # empty: anonymous
    id_number: str = ""
    subject_kind: str = ""  # 投诉: what it is about
    subject_name: str = ""
    subject_case_number: str = ""
    matter: str = ""  # 办不成事: what they wanted to do
    where_blocked: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    def problems(self, session) -> dict[str, str]:
        found = {}
        if not self.content.strip():
            found["content"] = "请写明具体情况。"
        elif len(self.content.strip()) > CONTENT_LIMIT:
            found["content"] = f"具体情况最多 {CONTENT_LIMIT} 个字。"
        problem = phone_problem(self.phone)
        if problem:
            found["phone"] = problem
        if self.kind == COMPLAINT:
            if self.subject_kind not in SUBJECT_KINDS:
                found["subject_kind"] = "请选择投诉对象。"
            if self.subject_kind != "case" and not self.subject_name.strip():
                found["subject_name"] = "请写明投诉的窗口、工作人员或部门。"
            number = self.subject_case_number.strip()
            if self.subject_kind == "case" and not number:
                found["subject_case_number"] = "请填写被投诉的办件编号。"
            elif number and not session.scalar(select(Case.id).where(Case.number == number[:32])):
                found["subject_case_number"] = "未找到该办件编号，请核对。"
        elif not self.matter.strip():
            found["matter"] = "请写明想办的事。"
        for key in ("subject_name", "matter", "where_blocked", "name"):
            if len(getattr(self, key).strip()) > SHORT_LIMIT:
                found[key] = f"最多 {SHORT_LIMIT} 个字。"
        if len(self.attachments) > MAX_ATTACHMENTS:
            found["attachments"] = f"附件最多 {MAX_ATTACHMENTS} 个。"
        return found

    def data(self) -> dict:
        if self.kind == COMPLAINT:
            return {
                "subject_kind": SUBJECT_KINDS[self.subject_kind],
                "subject_name": self.subject_name.strip() or "（见办件）",
                "subject_case_number": self.subject_case_number.strip() or "（无）",
                "content": self.content.strip(),
            }
        return {
            "matter": self.matter.strip(),
            "where_blocked": self.where_blocked.strip() or "（未填写）",
            "content": self.content.strip(),
        }


def file(
    session,
    voice: Voice,
    place: Region | None,
    channel: CaseChannel,
    *,
    actor: str | None = None,
    account_id: int | None = None,
) -> tuple[Case, str]:
    """Register the complaint or report and start its process; returns the case and
    its query password (shown once)."""
    if voice.kind not in (COMPLAINT, CANNOT_DO):
        raise FeedbackRefused("反映类别不正确。")
    if place is None:
        raise FeedbackRefused("平台尚未设置所在区县，暂不能受理，请拨打服务热线。")
    found = voice.problems(session)
    if found:
        raise FeedbackRefused("请按提示修改后再提交。", fields=found)
    if voice.name.strip():
        applicant = services.Applicant(
            "person",
            voice.name.strip(),
            voice.id_number.strip(),
            voice.phone.strip(),
            anonymous=not voice.id_number.strip(),  # a name without an ID: not checked
        )
    else:
        applicant = services.Applicant.unnamed(voice.phone.strip())
    stored = []
    for number, attachment in enumerate(voice.attachments, start=1):
        try:
            blob = store.store(session, attachment.content, attachment.filename)
        except store.FileRejected as exc:
            raise FeedbackRefused(
                f"附件{number}：{exc.message}", fields={"attachments": exc.message}
            ) from None
        stored.append((blob.sha256, store.safe_name(attachment.filename)))
    intake = services.Intake(
        item=feedback_item(session, voice.kind),
        applicant=applicant,
        place=place,
        channel=channel,
        data=voice.data(),
    )
    case, password = services.receive(session, intake, actor)
    case.applicant_account_id = account_id
    for number, (sha256, filename) in enumerate(stored, start=1):
        case.materials.append(
            CaseMaterial(
                name=f"附件{number}",
                required=False,
                received=True,
                received_at=case.received_at,
                blob_sha256=sha256,
                filename=filename,
            )
        )
    services.accept(session, case, actor)
    for sha256, _filename in stored:
        store.bind(session, sha256, case.instance_id)
    return case, password


def is_anonymous(case: Case) -> bool:
    return case.item.kind == FEEDBACK_KIND and case.applicant_name == services.ANONYMOUS
