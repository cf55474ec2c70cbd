"""Plan my day: each user's visit length per call type; each planned stop's own visit length
(the plan's one length for the plans there already), and a plan's one length now optional.

Revision ID: c5d2e8f4a1b7
Revises: c5d18e2f7a40
Create Date: 2026-12-04 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d2e8f4a1b7'
down_revision = 'c5d18e2f7a40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_lengths',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('call_type_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes BETWEEN 1 AND 480', name=op.f('ck_visit_lengths_minutes')),
    sa.ForeignKeyConstraint(['call_type_id'], ['call_log_types.id'], name=op.f('fk_visit_lengths_call_type_id_call_log_types')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visit_lengths_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_lengths')),
    sa.UniqueConstraint('user_id', 'call_type_id', name='uq_visit_lengths_user_type')
    )
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_minutes', sa.Integer(), server_default='30', nullable=False))
    op.execute(
        "UPDATE plan_stops SET visit_minutes = "
        "(SELECT plans.visit_minutes FROM plans WHERE plans.id = plan_stops.plan_id)"
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.alter_column('visit_minutes', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute(
        "UPDATE plans SET visit_minutes = COALESCE((SELECT MAX(plan_stops.visit_minutes) "
        "FROM plan_stops WHERE plan_stops.plan_id = plans.id), 30) WHERE visit_minutes IS NULL"
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.alter_column('visit_minutes', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.drop_column('visit_minutes')
    op.drop_table('visit_lengths')
