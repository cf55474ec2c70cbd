"""Team health reads a period's call logs from one covering index: (called_on, call_type_id,
completed_next_call, user_id), which also groups them per day with no sort on SQLite.

Revision ID: d8b3f1c6e2a9
Revises: 41c7e67a6857
Create Date: 2026-12-04 19:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd8b3f1c6e2a9'
down_revision = '41c7e67a6857'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_call_logs_team_health',
            ['called_on', 'call_type_id', 'completed_next_call', 'user_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_call_logs_team_health')
