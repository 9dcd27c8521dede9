from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class UploadForm(FlaskForm):
    files = MultipleFileField(
        "流程文件（.bpmn / .dmn / 表单 .json，可多选）",
        validators=[DataRequired(message="请选择要上传的文件")],
    )


class RetryForm(FlaskForm):
    version = IntegerField(
        "改用流程版本（留空则按原版本重试）", validators=[Optional(), NumberRange(min=1)]
    )


class TerminateForm(FlaskForm):
    reason = StringField(
        "终止原因", validators=[DataRequired(message="请填写终止原因"), Length(max=500)]
    )
