from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class VerifyForm(FlaskForm):
    code = StringField(
        "验证码", validators=[DataRequired(message="请输入文书上的验证码"), Length(max=40)]
    )
