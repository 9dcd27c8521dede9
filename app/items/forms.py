from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.models.items import KINDS, MATERIAL_FORMS


class ItemForm(FlaskForm):
    nonce = HiddenField()  # a new item's one-time nonce (app/once.py)
    code = StringField(
        "事项编码", validators=[DataRequired(message="请填写事项编码"), Length(max=40)]
    )
    name = StringField(
        "事项名称", validators=[DataRequired(message="请填写事项名称"), Length(max=200)]
    )
    kind = SelectField("办件类型", choices=list(KINDS.items()))
    lead_department_id = SelectField("主办部门", coerce=int, validate_choice=False)
    authority = StringField(
        "实施机关（文书以其名义出具；留空用主办部门）",
        validators=[Optional(), Length(max=200)],
    )
    process_id = SelectField("办理流程", validate_choice=False)
    result_name = StringField(
        "办理结果名称（资料共享库；留空用决定书名称）",
        validators=[Optional(), Length(max=200)],
        description="例如：食品小作坊登记证",
    )
    statutory_days = IntegerField(
        "法定时限（工作日）", validators=[NumberRange(min=0, max=365, message="0–365")]
    )
    committed_days = IntegerField(
        "承诺时限（工作日，即办件填 0）", validators=[NumberRange(min=0, max=365, message="0–365")]
    )
    fee_amount = DecimalField(
        "收费金额（元）", places=2, validators=[Optional(), NumberRange(min=0)]
    )
    fee_note = StringField("收费说明", validators=[Optional(), Length(max=500)])
    legal_basis = TextAreaField("设定依据", validators=[Optional(), Length(max=4000)])
    conditions = TextAreaField("受理条件", validators=[Optional(), Length(max=4000)])
    warn_yellow = StringField(
        "黄牌规则（留空用中心设置）",
        validators=[Optional(), Length(max=16)],
        description="例如：已用80%、剩2个工作日、超期",
    )
    warn_red = StringField("红牌规则（留空用中心设置）", validators=[Optional(), Length(max=16)])
    step_limits = TextAreaField(
        "环节时限（每行：环节名称或编号=工作日数）",
        validators=[Optional(), Length(max=2000)],
        description="例如：承办=3",
    )
    window = StringField("办理窗口", validators=[Optional(), Length(max=200)])
    address = StringField("办理地址", validators=[Optional(), Length(max=200)])
    phone = StringField("咨询电话", validators=[Optional(), Length(max=40)])
    hours = StringField("办公时间", validators=[Optional(), Length(max=200)])
    topics_person = StringField(
        "个人办事主题（人生事件，用顿号分隔）",
        validators=[Optional(), Length(max=400)],
        description="例如：个体经营、生育收养",
    )
    topics_company = StringField(
        "法人办事主题（企业事项，用顿号分隔）",
        validators=[Optional(), Length(max=400)],
        description="例如：企业开办、食品经营",
    )
    online = BooleanField("可网上申请")
    green_channel = BooleanField("可走绿色通道")


class MaterialForm(FlaskForm):
    name = StringField(
        "材料名称", validators=[DataRequired(message="请填写材料名称"), Length(max=200)]
    )
    form = SelectField("材料形式", choices=list(MATERIAL_FORMS.items()))
    copies = IntegerField(
        "份数", default=1, validators=[NumberRange(min=1, max=99, message="1–99")]
    )
    required = BooleanField("必须提交", default=True)
    note = StringField("说明", validators=[Optional(), Length(max=500)])
    satisfied_by_item = StringField(
        "前置审批（由此事项的办理结果满足，填事项编码，可选）",
        validators=[Optional(), Length(max=40)],
    )
    blank_form = FileField("空白表格（可选）")
    example = FileField("填写示例（可选）")
