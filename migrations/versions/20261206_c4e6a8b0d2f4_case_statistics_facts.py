"""统计分析: a case's decision day, working days used and end; indexes for periods

Revision ID: c4e6a8b0d2f4
Revises: a3c5e7f9b1d2
Create Date: 2026-12-06 04:20:00

"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c4e6a8b0d2f4'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None

OPEN_UNTIL = datetime(9999, 12, 31)


def upgrade():
    op.create_table('statistics_month_filled',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('filled_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('month')
    )
    op.create_table('statistics_month_fact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('decided', sa.Integer(), nullable=False),
    sa.Column('timed', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['month'], ['statistics_month_filled.month'], ),
    sa.ForeignKeyConstraint(['place_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_statistics_month_fact_month', 'statistics_month_fact', ['month', 'place_id'], unique=False)
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('used_workdays', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.alter_column('ended_at', existing_type=sa.DateTime(), nullable=False)
        for name, column in (
            ('ix_case_received_at', 'received_at'),
            ('ix_case_accepted_at', 'accepted_at'),
            ('ix_case_decided_on', 'decided_on'),
            ('ix_case_delivered_at', 'delivered_at'),
            ('ix_case_closed_at', 'closed_at'),
            ('ix_case_ended_at', 'ended_at'),
        ):
            batch_op.create_index(name, [column], unique=False)


def _backfill(bind):
    """Existing decided cases get their decision's local day and working days used (the
    center's calendar, as at the decision); every case its end."""
    from sqlalchemy.orm import Session

    from app.clock import center_clock  # the center's zone and calendar at migration time

    clock = center_clock(Session(bind=bind))  # the calendar read on this migration's connection
    cases = sa.table(
        'case_file', sa.column('id'), sa.column('accepted_at'), sa.column('decided_at'),
        sa.column('closed_at'), sa.column('decided_on'), sa.column('used_workdays'),
        sa.column('ended_at'),
    )
    pauses = sa.table('case_pause', sa.column('case_id'), sa.column('paused_workdays'))
    paused = dict(bind.execute(
        sa.select(pauses.c.case_id, sa.func.sum(pauses.c.paused_workdays)).group_by(pauses.c.case_id)
    ).all())
    rows = bind.execute(sa.select(cases.c.id, cases.c.accepted_at, cases.c.decided_at, cases.c.closed_at)).all()
    for case_id, accepted_at, decided_at, closed_at in rows:
        values = {'ended_at': decided_at or closed_at or OPEN_UNTIL}
        if decided_at is not None:
            day = clock.day_of(decided_at)
            values['decided_on'] = day
            if accepted_at is not None:
                start = clock.first_working_day(accepted_at)
                spent = clock.calendar.workdays_between(start, day) if day > start else 0
                values['used_workdays'] = max(0, spent - int(paused.get(case_id) or 0))
        bind.execute(cases.update().where(cases.c.id == case_id).values(**values))


def downgrade():
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        for name in ('ix_case_ended_at', 'ix_case_closed_at', 'ix_case_delivered_at',
                     'ix_case_decided_on', 'ix_case_accepted_at', 'ix_case_received_at'):
            batch_op.drop_index(name)
        batch_op.drop_column('ended_at')
        batch_op.drop_column('used_workdays')
        batch_op.drop_column('decided_on')
    op.drop_index('ix_statistics_month_fact_month', table_name='statistics_month_fact')
    op.drop_table('statistics_month_fact')
    op.drop_table('statistics_month_filled')
