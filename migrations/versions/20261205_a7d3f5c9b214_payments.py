"""payments: fees due on cases (缴费) and their refunds (退费)

Revision ID: a7d3f5c9b214
Revises: c4a9e2f71b36
Create Date: 2026-12-05 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a7d3f5c9b214'
down_revision = 'c4a9e2f71b36'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('wait_task_id', sa.String(length=36), nullable=False),
        sa.Column('step_bpmn_id', sa.String(length=255), nullable=True),
        sa.Column('amount_due', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('basis', sa.String(length=255), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('paid_amount', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('refunded_amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('receipt_no', sa.String(length=40), nullable=True),
        sa.Column('provider', sa.String(length=80), nullable=True),
        sa.Column('confirmed_by', sa.String(length=80), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['notice_id'], ['case_document.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'wait_task_id'),
        sa.UniqueConstraint('receipt_no'),
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_case', ['case_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_status'), ['status'], unique=False)
    op.create_table(
        'payment_refund',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('voucher_no', sa.String(length=40), nullable=False),
        sa.Column('refunded_by', sa.String(length=80), nullable=True),
        sa.Column('refunded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('payment_refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_refund_payment_id'), ['payment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('payment_refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_refund_payment_id'))
    op.drop_table('payment_refund')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_status'))
        batch_op.drop_index('ix_payment_case')
    op.drop_table('payment')
