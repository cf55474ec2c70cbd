"""The app as gunicorn serves it in the benchmarks, with the baselines' routes added beside it.

`/_bench/constant/<size>` is B1's baseline: the same server, the same middleware and response
hooks, answering a constant body of `size` bytes with no query. `/_bench/raw-list/<rep_id>` is a
reference: 50 rows of a rep's list read with one hand-written SQL statement and formatted with
f-strings. Neither exists outside this module.
"""

import html
import os

from flask import Response
from sqlalchemy import text

from tpweb import auth
from tpweb.extensions import db

from .database import bench_app

app = bench_app(os.environ["TPWEB_BENCH_DATABASE_URL"])
_bodies = {}


@app.get("/_bench/constant/<int:size>")
def bench_constant(size):
    body = _bodies.get(size)
    if body is None:
        body = _bodies[size] = ("<p>" + "x" * max(0, size - 7) + "</p>")[:size].encode()
    return Response(body, mimetype="text/html")


RAW_LIST = text(
    """
    SELECT t.id, t.next_call, t.last_call, t.frequency_days, t.comment, a.name, c.name
    FROM touchpoints t JOIN accounts a ON a.id = t.account_id
    LEFT JOIN accounts c ON c.id = a.customer_id
    WHERE a.sales_rep_id = :rep AND a.active AND NOT t.inactive
    ORDER BY t.next_call, a.name, t.id LIMIT 50
    """
)


@app.get("/_bench/raw-list/<int:rep_id>")
def bench_raw_list(rep_id):
    rows = db.session.execute(RAW_LIST, {"rep": rep_id}).all()
    e = html.escape
    parts = [
        f'<article class="tp" id="touchpoint-{tp_id}"><header><strong>{e(name)}</strong>'
        + (f"<br><small>Jobsite of {e(customer)}</small>" if customer else "")
        + f"</header><p>Next Call {next_call} · Last Call {last_call} · every {days} days</p>"
        + (f'<p class="tp-comment">{e(comment)}</p>' if comment else "")
        + "</article>"
        for tp_id, next_call, last_call, days, comment, name, customer in rows
    ]
    return Response("".join(parts), mimetype="text/html")


# Baselines measure the server, not sign-in: they are public, as /login is.
auth.PUBLIC_ENDPOINTS.update({"bench_constant", "bench_raw_list"})
