from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp


class VerifyForm(FlaskForm):
    code = StringField(
        "验证码", validators=[DataRequired(message="请输入文书上的验证码"), Length(max=40)]
    )


class CaseQueryForm(FlaskForm):
    number = StringField(
        "办件编号",
        validators=[
            DataRequired(message="请输入受理通知书上的办件编号"),
            Regexp(r"^\s*\d{19}\s*$", message="办件编号是 19 位数字"),
        ],
    )
    password = StringField(
        "查询密码",
        validators=[
            DataRequired(message="请输入查询密码"),
            Regexp(r"^\s*\d{6}\s*$", message="查询密码是 6 位数字"),
        ],
    )
