"""The app as gunicorn serves it in the benchmarks, with the baselines' routes added beside it.

`/_bench/constant/<size>` is B1's baseline: a route of the same app on the same server, behind
the same sign-in as every page (the one query that loads the signed-in user) and the same
response hooks, answering a constant body of `size` bytes. `/_bench/raw-list` is a reference:
the signed-in rep's first 50 cards read with one hand-written SQL statement and written with
f-strings, in the list's markup. Neither exists outside this module.
"""

import html
import os

from flask import Response
from flask_login import current_user
from sqlalchemy import Date, text

from tpweb.domain.schedule import due_state
from tpweb.extensions import db
from tpweb.web.pages import user_today

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
    SELECT t.id, t.next_call AS next_call, t.last_call AS last_call, t.frequency_days,
           t.comment, t.version, a.id, a.kind, a.name, c.name
    FROM touchpoints t JOIN accounts a ON a.id = t.account_id
    LEFT JOIN accounts c ON c.id = a.customer_id
    WHERE a.sales_rep_id = :rep AND a.active AND NOT t.inactive
    ORDER BY t.next_call, a.name, t.id LIMIT 50
    """
).columns(next_call=Date, last_call=Date)  # SQLite answers dates as text


@app.get("/_bench/raw-list")
def bench_raw_list():
    """The signed-in rep's first 50 cards: one SQL statement, f-strings, the same markup."""
    today = user_today()
    rows = db.session.execute(RAW_LIST, {"rep": current_user.id}).all()
    e = html.escape
    out = []
    for tp, next_call, last_call, days, comment, version, account, kind, name, customer in rows:
        state, ahead = due_state(next_call, today), (next_call - today).days
        badge = (f"Overdue {-ahead} days" if ahead < 0 else "Due today" if ahead == 0
                 else f"Upcoming · in {ahead} days")  # fmt: skip
        out.append(
            f'<article class="tp tp--{state}" id="touchpoint-{tp}"><header><div><strong>'
            f'<a href="/{kind}s/{account}">{e(name)}</a></strong>'
            + (f"<br><small>Jobsite of {e(customer)}</small>" if customer else "")
            + f'</div><span class="badge badge--{state}">{badge}</span></header>'
            f'<p class="tp-dates" data-version="{version}"><a href="/touchpoints/{tp}">Next Call '
            f'<time datetime="{next_call}">{next_call:%a %b %-d, %Y}</time></a> · Last Call '
            f'<time datetime="{last_call}">{last_call:%b %-d}</time> · every {days} days</p>'
            + (f'<p class="tp-comment">{e(comment[:160])}</p>' if comment else "")
            + f'<footer class="actions"><a role="button" href="/touchpoints/{tp}/complete" '
            f'hx-get="/touchpoints/{tp}/complete" hx-target="closest article" '
            f'hx-swap="outerHTML">Complete</a><a role="button" class="secondary" '
            f'href="/touchpoints/{tp}/edit" hx-get="/touchpoints/{tp}/edit" '
            f'hx-target="closest article" hx-swap="outerHTML">Reschedule</a></footer></article>'
        )
    return Response("".join(out), mimetype="text/html")
