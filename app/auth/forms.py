from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


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
