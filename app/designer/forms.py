from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms.validators import DataRequired


class UploadForm(FlaskForm):
    files = MultipleFileField(
        "流程文件（.bpmn / .dmn / 表单 .json，可多选）",
        validators=[DataRequired(message="请选择要上传的文件")],
    )
