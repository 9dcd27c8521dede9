from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.models.applicants import APPLICANT_KINDS


class RegisterForm(FlaskForm):
    kind = RadioField(
        "注册类型",
        choices=[SelectChoice(k, v) for k, v in APPLICANT_KINDS.items()],
        default="person",
    )
    name = StringField(
        "姓名或单位名称",
        validators=[
            DataRequired(message="请填写姓名或单位名称"),
            Length(max=100, message="最多 100 个字"),
        ],
    )
    id_number = StringField(
        "身份证号码或统一社会信用代码",
        validators=[
            DataRequired(message="请填写证件号码"),
            Length(max=18, message="证件号码最多 18 位"),
        ],
    )
    phone = StringField(
        "联系电话",
        validators=[DataRequired(message="请填写联系电话"), Length(max=20, message="最多 20 位")],
    )
    legal_person = StringField(
        "法定代表人（法人填写）", validators=[Optional(), Length(max=50, message="最多 50 个字")]
    )
    contact = StringField(
        "联系人（法人填写）", validators=[Optional(), Length(max=50, message="最多 50 个字")]
    )
    password = PasswordField(
        "密码（至少 8 位）",
        validators=[DataRequired(message="请设置密码"), Length(max=128, message="密码最多 128 位")],
    )


class LoginForm(FlaskForm):
    id_number = StringField(
        "证件号码",
        validators=[
            DataRequired(message="请填写证件号码"),
            Length(max=18, message="证件号码最多 18 位"),
        ],
    )
    password = PasswordField(
        "密码",
        validators=[DataRequired(message="请输入密码"), Length(max=128, message="密码最多 128 位")],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        "当前密码", validators=[DataRequired(message="请输入当前密码"), Length(max=128)]
    )
    new = PasswordField(
        "新密码（至少 8 位）", validators=[DataRequired(message="请输入新密码"), Length(max=128)]
    )


class ResetLookupForm(FlaskForm):
    id_number = StringField(
        "申请人证件号码",
        validators=[
            DataRequired(message="请填写证件号码"),
            Length(max=18, message="证件号码最多 18 位"),
        ],
    )
