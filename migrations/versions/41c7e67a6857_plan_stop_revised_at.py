"""Plan my day: when each planned stop's time or place on the route last changed after its plan
was made (a re-plan: Skip, a move, Why not …?), for the calendar feed's SEQUENCE and
LAST-MODIFIED; empty for the stops there already (their plan's time stands for it).

Revision ID: 41c7e67a6857
Revises: c5d2e8f4a1b7
Create Date: 2026-12-04 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '41c7e67a6857'
down_revision = 'c5d2e8f4a1b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revised_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.drop_column('revised_at')
