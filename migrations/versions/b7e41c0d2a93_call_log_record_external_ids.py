"""External ids on call logs and touchpoint records; contacts' changes in the history.

An external id is how an export names a call log or record, so that importing the file again
finds it; one made in the app has none until it is first exported. Unique per table.

Revision ID: b7e41c0d2a93
Revises: 3f6a2b9c1d47
Create Date: 2026-11-30 10:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e41c0d2a93'
down_revision = '3f6a2b9c1d47'
branch_labels = None
depends_on = None

SUBJECTS = "subject IN ('account', 'touchpoint', 'contact', 'task')"
OLD_SUBJECTS = "subject IN ('account', 'touchpoint', 'task')"


def upgrade():
    for table in ('call_logs', 'touchpoint_records'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
            batch_op.create_unique_constraint(f'uq_{table}_external_id', ['external_id'])
    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_history_subject'), type_='check')
        batch_op.create_check_constraint(op.f('ck_history_subject'), SUBJECTS)


def downgrade():
    op.execute("DELETE FROM history WHERE subject = 'contact'")
    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_history_subject'), type_='check')
        batch_op.create_check_constraint(op.f('ck_history_subject'), OLD_SUBJECTS)
    for table in ('call_logs', 'touchpoint_records'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_external_id', type_='unique')
            batch_op.drop_column('external_id')
