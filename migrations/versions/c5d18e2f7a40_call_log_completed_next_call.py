"""Each call log keeps the Next Call it completed (Team health's "on time"); existing call logs
get it from History where it can be found, and the upgrade says how many could not.

The Next Call a call completed is the touchpoint's Next Call just before the call was logged: the
"after" value of the touchpoint's last History row changing next_call before the call log's
created_at (the completion's own row is written after the call log, in the same flush).

Revision ID: c5d18e2f7a40
Revises: c5d1e8a7f3b2
Create Date: 2026-12-04 16:15:00.000000

"""
import bisect
import json
import logging
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d18e2f7a40'
down_revision = 'c5d1e8a7f3b2'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')
BATCH = 5000


def upgrade():
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_next_call', sa.Date(), nullable=True))
    found, missing = backfill(op.get_bind())
    message = (f"call_logs.completed_next_call: filled {found} from History; "
               f"{missing} could not be found (left empty, not counted as on time or late)")
    print(message)
    log.info(message)


def next_calls_by_touchpoint(connection):
    """{touchpoint id: ([when, ...], [Next Call after that change, ...])}, oldest first."""
    rows = connection.execute(sa.text(
        "SELECT subject_id, at, changes FROM history WHERE subject = 'touchpoint' "
        "AND changes LIKE '%\"next_call\"%' ORDER BY subject_id, at, id"
    ).columns(sa.column('subject_id'), sa.column('at', sa.DateTime()), sa.column('changes')))
    found = {}
    for touchpoint_id, at, changes in rows:
        after = json.loads(changes).get('next_call', [None, None])[1]
        if after is not None:
            times, values = found.setdefault(touchpoint_id, ([], []))
            times.append(at)
            values.append(date.fromisoformat(after))
    return found


def backfill(connection):
    """Fill completed_next_call for the call logs whose touchpoint's History has it; returns
    (filled, not found)."""
    history = next_calls_by_touchpoint(connection)
    logs = connection.execute(sa.text(
        "SELECT id, touchpoint_id, created_at FROM call_logs WHERE completed_next_call IS NULL"
    ).columns(sa.column('id'), sa.column('touchpoint_id'), sa.column('created_at', sa.DateTime())))
    filled, missing = [], 0
    for log_id, touchpoint_id, created_at in logs:
        times, values = history.get(touchpoint_id, ((), ()))
        n = bisect.bisect_left(times, created_at)
        if n == 0:
            missing += 1
            continue
        filled.append({'id': log_id, 'next_call': values[n - 1]})
    update = sa.text("UPDATE call_logs SET completed_next_call = :next_call WHERE id = :id")
    update = update.bindparams(sa.bindparam('next_call', type_=sa.Date()))
    for start in range(0, len(filled), BATCH):
        connection.execute(update, filled[start:start + BATCH])
    return len(filled), missing


def downgrade():
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_column('completed_next_call')
