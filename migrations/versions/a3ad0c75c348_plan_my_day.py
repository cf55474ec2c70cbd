"""Plan my day: a saved plan per rep and day with its stops; each user's home base, working
hours and visit length (defaults 08:00 to 17:00 and 30 minutes for the users there already).

Revision ID: a3ad0c75c348
Revises: b7e41c0d2a93
Create Date: 2026-12-04 13:35:00.142880

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3ad0c75c348'
down_revision = 'b7e41c0d2a93'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('planned_by_id', sa.Integer(), nullable=False),
    sa.Column('planned_at', sa.DateTime(), nullable=False),
    sa.Column('start_latitude', sa.Double(), nullable=False),
    sa.Column('start_longitude', sa.Double(), nullable=False),
    sa.Column('start_from', sa.String(length=10), nullable=False),
    sa.Column('end_mode', sa.String(length=10), nullable=False),
    sa.Column('day_starts', sa.Integer(), nullable=False),
    sa.Column('day_ends', sa.Integer(), nullable=False),
    sa.Column('visit_minutes', sa.Integer(), nullable=False),
    sa.Column('travel', sa.String(length=10), nullable=False),
    sa.Column('ends_at', sa.Integer(), nullable=False),
    sa.Column('drive_seconds', sa.Integer(), nullable=False),
    sa.CheckConstraint("end_mode IN ('start', 'anywhere')", name=op.f('ck_plans_end_mode')),
    sa.CheckConstraint('day_ends BETWEEN 0 AND 1440', name=op.f('ck_plans_day_ends')),
    sa.CheckConstraint('day_starts BETWEEN 0 AND 1440', name=op.f('ck_plans_day_starts')),
    sa.ForeignKeyConstraint(['planned_by_id'], ['users.id'], name=op.f('fk_plans_planned_by_id_users')),
    sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_plans_rep_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('rep_id', 'day', name='uq_plans_rep_day')
    )
    op.create_table('plan_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('arrival', sa.Integer(), nullable=True),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('left_out_why', sa.String(length=20), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'done', 'skipped', 'left-out')", name=op.f('ck_plan_stops_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_plan_stops_account_id_accounts')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_stops_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_plan_stops_touchpoint_id_touchpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_stops'))
    )
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.create_index('ix_plan_stops_plan', ['plan_id', 'position'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_latitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('home_longitude', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('day_starts', sa.Integer(), server_default='480', nullable=False))
        batch_op.add_column(sa.Column('day_ends', sa.Integer(), server_default='1020', nullable=False))
        batch_op.add_column(sa.Column('visit_minutes', sa.Integer(), server_default='30', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('visit_minutes')
        batch_op.drop_column('day_ends')
        batch_op.drop_column('day_starts')
        batch_op.drop_column('home_longitude')
        batch_op.drop_column('home_latitude')

    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_stops_plan')

    op.drop_table('plan_stops')
    op.drop_table('plans')
