"""Forms of the organisation pages.

Only presence and length are checked here; the rules (code formats, levels,
choices, uniqueness) live in ``services`` and come back as ``OrgError`` on the field of
the same name, so a rule is written once.
"""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length, Optional

from app import once
from app.clock import center_clock
from app.models.org import LEVEL_ZH, ROLES

from .services import RULE_OPTIONS, RULE_QUESTIONS

TIME_FORMAT = "%Y-%m-%dT%H:%M"
# a username field searched by name, pinyin or department (app/static/js/picker.js)
PERSON = {"data-picker": "people"}


def _required(label: str):
    return DataRequired(message=f"请填写{label}")


def local_to_utc(value: datetime | None) -> datetime | None:
    """A time typed in the center's time zone, as the naive UTC the database stores."""
    if value is None:
        return None
    return center_clock().from_local(value.replace(tzinfo=None))


class OnceForm(FlaskForm):
    """A create form: its one-time nonce is spent by ``web.save`` (a double submission
    creates nothing more)."""

    nonce = HiddenField(default=once.form_nonce)


class RegionForm(OnceForm):
    code = StringField("区划代码", validators=[_required("区划代码"), Length(max=12)])
    name = StringField("名称", validators=[_required("名称"), Length(max=80)])
    level = SelectField("层级", choices=LEVEL_ZH, validate_choice=False)
    parent_code = StringField(
        "上级区划代码", validators=[Optional(), Length(max=12)], description="留空表示最上级区划"
    )


class DepartmentForm(OnceForm):
    code = StringField(
        "部门代码",
        validators=[_required("部门代码"), Length(max=40)],
        description="全系统唯一，导入文件中用它指代部门，如 scj、scj_spg",
    )
    name = StringField("名称", validators=[_required("名称"), Length(max=120)])


class PostForm(FlaskForm):
    role = SelectField("岗位", choices=ROLES, validate_choice=False)


class HolderForm(FlaskForm):
    username = StringField("用户名", validators=[_required("用户名"), Length(max=80)])


class UserCreateForm(OnceForm):
    username = StringField("用户名", validators=[_required("用户名"), Length(max=80)])
    display_name = StringField("姓名", validators=[_required("姓名"), Length(max=120)])
    phone = StringField("电话", validators=[Optional(), Length(max=32)])
    password = PasswordField(
        "初始密码", validators=[Optional()], description="留空则由系统生成，只显示一次"
    )
    is_admin = BooleanField("系统管理员（可管理一切）")


class UserEditForm(FlaskForm):
    display_name = StringField("姓名", validators=[_required("姓名"), Length(max=120)])
    phone = StringField("电话", validators=[Optional(), Length(max=32)])
    is_admin = BooleanField("系统管理员（可管理一切）")


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        "新密码", validators=[Optional()], description="留空则由系统生成；用户下次登录须修改"
    )


class BackupForm(OnceForm):
    holder = StringField(
        "A角（用户名）", validators=[_required("A角用户名"), Length(max=80)], render_kw=PERSON
    )
    backup = StringField(
        "B角（用户名）", validators=[_required("B角用户名"), Length(max=80)], render_kw=PERSON
    )
    department_code = StringField(
        "仅限部门（代码）", validators=[Optional(), Length(max=40)], description="留空表示全部工作"
    )
    process_id = StringField(
        "仅限流程（流程 ID）",
        validators=[Optional(), Length(max=255)],
        description="留空表示全部流程",
    )
    valid_from = DateTimeLocalField(
        "开始时间", format=TIME_FORMAT, validators=[Optional()], description="留空表示现在"
    )
    valid_to = DateTimeLocalField(
        "结束时间", format=TIME_FORMAT, validators=[Optional()], description="留空表示长期有效"
    )
    reason = TextAreaField("事由", validators=[Optional(), Length(max=500)])


class LeaveForm(FlaskForm):
    holder = StringField(
        "请假人（用户名）",
        validators=[_required("请假人用户名"), Length(max=80)],
        render_kw=PERSON,
    )
    backup = StringField(
        "代理人 B角（用户名）",
        validators=[_required("B角用户名"), Length(max=80)],
        render_kw=PERSON,
    )
    valid_to = DateTimeLocalField(
        "请假至", format=TIME_FORMAT, validators=[Optional()], description="留空则直到销假"
    )
    reason = StringField("事由", validators=[Optional(), Length(max=500)])


class ReturnForm(FlaskForm):
    holder = StringField(
        "销假人（用户名）",
        validators=[_required("销假人用户名"), Length(max=80)],
        render_kw=PERSON,
    )


def _rule_field(name: str) -> SelectField:
    # the service validates the choice, with a Chinese message
    return SelectField(RULE_QUESTIONS[name], choices=RULE_OPTIONS[name], validate_choice=False)


class RulesForm(FlaskForm):
    when_empty = _rule_field("when_empty")
    when_initiator = _rule_field("when_initiator")
    when_same_as_previous = _rule_field("when_same_as_previous")


class MyLeaveForm(FlaskForm):
    """请假 by the person themselves: who stands in, until when, why."""

    backup = StringField(
        "代理人 B角（用户名）",
        validators=[DataRequired(message="请填写 B角用户名"), Length(max=80)],
        render_kw=PERSON,
    )
    valid_to = DateTimeLocalField("请假至", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    reason = StringField("事由", validators=[Optional(), Length(max=500)])
