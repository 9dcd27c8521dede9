from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    username = StringField(
        "用户名", validators=[DataRequired(message="请输入用户名"), Length(max=80)]
    )
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired(message="请输入当前密码")])
    new = PasswordField(
        "新密码（至少 8 位）",
        validators=[
            DataRequired(message="请输入新密码"),
            Length(min=8, max=128, message="新密码至少 8 位"),
        ],
    )
    confirm = PasswordField(
        "再次输入新密码",
        validators=[
            DataRequired(message="请再次输入新密码"),
            EqualTo("new", message="两次输入的新密码不一致"),
        ],
    )


class MyLeaveForm(FlaskForm):
    """请假 by the person themselves: who stands in, until when, why."""

    backup = StringField(
        "代理人 B角（用户名）",
        validators=[DataRequired(message="请填写 B角用户名"), Length(max=80)],
    )
    valid_to = DateTimeLocalField("请假至", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    reason = StringField("事由", validators=[Optional(), Length(max=500)])
