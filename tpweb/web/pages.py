"""What every view shares: a page or its htmx fragment, its query arguments and row URLs."""

import functools
import os
from datetime import date

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from tpweb.domain.history_words import sentence
from tpweb.domain.schedule import due_label, due_state, today_in
from tpweb.domain.tasks import task_total


def render(template, block, status=200, **context):
    """The whole page for a plain or boosted request, only `block` for an htmx request."""
    if request.htmx and not request.htmx.boosted:
        return render_block(template, block, **context), status
    return render_template(template, **context), status


class IdConverter(IntegerConverter):
    """An <int:...> URL id, at most the largest id a table holds: past that, no route (a 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app):
    app.after_request(_add_vary)
    app.after_request(_failed_form_in_view)
    app.add_template_global(due_state)
    app.add_template_global(row_url)
    app.add_template_global(url_pattern)
    app.add_template_global(link)
    app.add_template_global(task_count)
    # Filters, not macros: the templates call them once per row of a list.
    app.add_template_filter(due_state)
    app.add_template_filter(due_label)
    app.add_template_filter(strftime)
    app.add_template_filter(due_badge)
    app.add_template_filter(time_tag)
    app.add_template_filter(history_sentence)


# Two ids of as many digits, differing in every digit: the text of a URL around its id is what
# their two URLs have in common, whatever else the URL holds.
ID_A, ID_B = 2147483647, 1036372536


# The app's URLs kept for the process by `link` and `url_pattern`: {(which, mount point,
# endpoint, ...): URL or pattern}, in the app's extensions (a test process makes several apps).
LINKS = "tpweb.links"


def link(endpoint, **values):
    """url_for(endpoint, **values), kept for the process: for the links a template writes with
    fixed values (the shell's two dozen in base.html). A path's URL depends on nothing else but
    the deploy (static names from its manifest) and where the app is mounted, and each url_for
    cost about 4.5 µs, on every page (docs/benchmarks.md, B1)."""
    links = current_app.extensions.setdefault(LINKS, {})
    key = ("link", request.script_root, endpoint, *sorted(values.items()))
    url = links.get(key)
    if url is None:
        url = links[key] = url_for(endpoint, **values)
    return url


def url_pattern(endpoint, id_name, **values):
    """url_for(endpoint, **{id_name: ...}, **values) as a %-pattern for the id, built once per
    process (as `link` keeps its links): a list's rows each need the same URLs with their own
    id, and fifty cards calling url_for 200 times was more than a third of the list's time
    (docs/benchmarks.md, B1)."""
    patterns = current_app.extensions.setdefault(LINKS, {})
    key = ("pattern", request.script_root, endpoint, id_name, *sorted(values.items()))
    if key not in patterns:
        url_a = url_for(endpoint, **{id_name: ID_A}, **values)
        url_b = url_for(endpoint, **{id_name: ID_B}, **values)
        head = os.path.commonprefix([url_a, url_b])
        tail = os.path.commonprefix([url_a[::-1], url_b[::-1]])[::-1]
        if url_a != f"{head}{ID_A}{tail}":
            raise RuntimeError(f"{url_a!r}: the id's place in the URL is not clear")
        patterns[key] = f"{head.replace('%', '%%')}%d{tail.replace('%', '%%')}"
    return patterns[key]


def row_url(endpoint, id_name, id_value, **values):
    """url_for(endpoint, **{id_name: id_value}, **values), for pages of many rows."""
    return url_pattern(endpoint, id_name, **values) % id_value


def _kept_for_dates(write):
    """`write(day, format)`, its answer kept per date: a page writes the same few dates over and
    over, and strftime took about 4 µs each, a hundred times per My tasks (B1). A datetime's is
    not kept: an aware one's text depends on more than its hash."""
    kept = functools.lru_cache(maxsize=4096)(write)

    @functools.wraps(write)
    def written(day, format):
        return kept(day, format) if type(day) is date else write(day, format)

    return written


@_kept_for_dates
def strftime(day, format):
    """`day` written as `format`."""
    return day.strftime(format)


@_kept_for_dates
def time_tag(day, format):
    """`day` in a <time> element: its ISO date for machines, `format` for people."""
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), day.strftime(format))


@functools.lru_cache(maxsize=4096)
def due_badge(day, today):
    """The badge of a due date seen on `today`: its state's colour, its words. Kept per date as
    a date's text is, and written once, not as two values escaped each time (B1)."""
    badge = Markup('<span class="badge badge--{}">{}</span>')
    return badge.format(due_state(day, today), due_label(day, today))


def history_sentence(entry):
    """An entry of an account's History as a sentence, in the signed-in user's time zone."""
    return sentence(entry, current_user.timezone, user_today())


def _add_vary(response):
    # One URL answers a page or a fragment, so caches must key on the htmx header.
    response.vary.add("HX-Request")
    return response


def _failed_form_in_view(response):
    # A boosted page is scrolled to its top once swapped in, after htmx has focused its
    # [autofocus] field: a form sent back with its errors (422, 409) would leave the first error,
    # focused, out of sight. Let the focus do the scrolling instead.
    if response.status_code in (409, 422) and request.htmx.boosted:
        response.headers.setdefault("HX-Reswap", "innerHTML show:none")
    return response


# The navigation's My tasks count, once per request (My tasks itself sets it from its own page).
TASK_COUNT = "tpweb.task_count"


def task_count():
    """How many items wait in the signed-in user's My tasks; one query, once per request."""
    if TASK_COUNT not in request.environ:
        request.environ[TASK_COUNT] = task_total(current_user, user_today())
    return request.environ[TASK_COUNT]


# The event an htmx answer to a change sends (HX-Trigger): counts that depend on where they are
# shown (the widget's tabs, for whichever rep and tab) ask for themselves again when it comes.
CHANGED = "tpweb-changed"


def changed(body, message, status=200, headers=None):
    """The htmx answer to a change: `body` for its target; the navigation's My tasks count and
    `message` in the status line, out of band from base.html's own blocks; and the CHANGED event."""
    request.environ.pop(TASK_COUNT, None)  # counted again, after the change
    extra = render_block("base.html", "task_count", oob=True) + render_block(
        "base.html", "status", oob=True, status_message=message
    )
    return body + extra, status, {"HX-Trigger": CHANGED, **(headers or {})}


def day_words(day):
    """A date as a person reads it: "Sun Nov 2"."""
    return day.strftime("%a %b %-d")


def user_today():
    """Today's date where the signed-in user is."""
    return today_in(current_user.timezone)


def set_today(field, today):
    """A date field filled with today, marked as such (data-today) so that a phone showing the
    form on a later day, from a page it kept offline, moves it to that day (static/offline/forms.js:
    keepToday). A date the user typed is never marked."""
    field.data = today
    field.render_kw = {**(field.render_kw or {}), "data-today": today.isoformat()}


def int_arg(name, default=None, low=1, high=1_000_000):
    """A whole-number query parameter within [low, high]; anything else is a 400."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        abort(400, f"{name} must be a whole number from {low} to {high}.")
    return number


def whole_number(raw, digits=18):
    """`raw` as a number when it is 1 to `digits` of 0-9, else None: str.isdigit() alone takes
    "²", and int() refuses that and any string of more than 4,300 digits."""
    if raw.isascii() and raw.isdigit() and len(raw) <= digits:
        return int(raw)
    return None


def choice_arg(name, choices, default=None):
    raw = request.args.get(name) or default
    if raw is not None and raw not in choices:
        abort(400, f"{name} must be one of {', '.join(choices)}.")
    return raw
