"""Index touchpoints by account: the lists and the team overview go from accounts to touchpoints.

Without it SQLite scans every touchpoint for one rep's list (the partial unique index on
account_id does not serve "inactive = 0"); see docs/benchmarks.md.

Revision ID: 3f6a2b9c1d47
Revises: edcee96fa52e
Create Date: 2026-11-23 16:15:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f6a2b9c1d47'
down_revision = 'edcee96fa52e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_touchpoints_account_id'), ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_touchpoints_account_id'))
