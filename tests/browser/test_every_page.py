"""Every page of the URL map, as a rep, a manager and the admin, at 390x844 and 1280x800, light
and dark: no page scrolls sideways, every target fits a thumb on the phone (44x44 CSS px, but a
link in a sentence: WCAG 2.5.8's inline exception), and axe-core finds nothing serious or critical
(colour contrast in dark mode too).

The pages are the GET rules of app.url_map whose answer is HTML, each filled with the ids of real
demo rows the user may see (rep1's, with a hostile name and a long unbroken contact). A rule the
user may not open (tests/access.py's TABLE says who may) is not theirs to audit.
Each user's pages are loaded once and audited at both sizes and in both schemes; the tests, one
per (user, viewport, scheme), each report their own share.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.access import ADMIN_ONLY, MANAGER_ONLY, PUBLIC, REP_OWN, TABLE
from tpweb.domain.schedule import today_in
from tpweb.extensions import db
from tpweb.models import (
    Account,
    CallLogType,
    Contact,
    Plan,
    PlanStop,
    Touchpoint,
    TouchpointRecord,
    User,
)

from .conftest import HOSTILE, PASSWORD, PHONE, TIMEZONE

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
DESK = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desk": DESK}
USERS = ("anonymous", "rep1", "manager1", "admin")
# Not pages: files, the offline client's data, a download, JSON for the map and the form.
NOT_PAGES = {
    "static",
    "offline.manifest",
    "offline.service_worker",
    "offline.shell",
    "offline.urls",
    "touchpoints.marker",
    "touchpoints.compute_next_call",
    "imports.export",
    # Reached by a secret in the URL, not a user's page: the feed is iCalendar; the one-tap page
    # (no session) is tested in tests/test_one_tap.py.
    "reminders.feed",
    "reminders.action",
}
LONG_NAME = "Bartholomew" * 8
LONG_EMAIL = "a" * 100 + "@" + "b" * 11 + ".example"
PLAN = {"start": "here", "lat": "41.88", "lon": "-87.63", "end": "start",
        "day_starts": "08:00", "day_ends": "17:00", "visit_minutes": "30"}  # fmt: skip

# Whether the page scrolls sideways, and every visible target under 44x44 CSS px (0.5 px spared):
# a link, button, field, summary, role=button or a label holding a control. A checkbox or radio
# counts as the label around it. A link in a sentence (inline, among other text) is exempt.
AUDIT = """() => {
  const sideways = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  const seen = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true}) &&
    el.getClientRects().length > 0;
  const big = (box) => box.width >= 43.5 && box.height >= 43.5;
  const inSentence = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    let block = el.parentElement;
    const inline = (node) => getComputedStyle(node).display.startsWith("inline");
    while (block && inline(block)) block = block.parentElement;
    return !!block && block.textContent.trim().length > el.textContent.trim().length;
  };
  // WCAG 2.5.8's equivalent exception: a chart's bar (hidden from assistive tech, out of the tab
  // order) whose href a big enough link on the page also has (the table beside the chart).
  const equivalent = (el) => el.matches('[aria-hidden="true"] a[tabindex="-1"]') &&
    [...document.querySelectorAll("a[href]")].some((other) => other !== el &&
      other.getAttribute("href") === el.getAttribute("href") &&
      big(other.getBoundingClientRect()));
  const labelled = (el) => {
    const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
    return !!label && big(label.getBoundingClientRect());
  };
  const targets = "a[href], button, input:not([type=hidden]), select, textarea, summary, " +
    "[role=button], label:has(input, select, textarea)";
  const small = [...document.querySelectorAll(targets)]
    .filter((el) => seen(el) && !inSentence(el) && !equivalent(el))
    .filter((el) => !(el.matches("input[type=checkbox], input[type=radio]") && labelled(el)))
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, box]) => box.width > 1 && box.height > 1 && !big(box))
    .map(([el, box]) => [el.tagName.toLowerCase(), (el.textContent || el.name || "")
      .trim().replace(/\\s+/g, " ").slice(0, 40), Math.round(box.width), Math.round(box.height)])
    .map(([tag, text, width, height]) => `${tag} "${text}" ${width}x${height}`);
  return {sideways, small};
}"""

# Serious and critical axe-core violations, one line each with up to three of its elements.
# `where`: the part of the page to check; `rules`: axe's run options (which rules).
AXE_RUN = """async ([where, rules]) => {
  const options = {resultTypes: ["violations"], iframes: false, ...rules};
  if (where && !document.querySelector(where)) return [];
  const found = await axe.run(where || document, options);
  return found.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}` +
      ` (${v.nodes.length}) ${v.nodes[0].failureSummary.replace(/\\s+/g, " ").slice(0, 160)}`);
}"""
# What axe checks for each (viewport, scheme), with WCAG 2.2's target size (off by default in
# axe, on in Lighthouse) at the phone size. Colours differ by scheme, and by width only in the
# menu (a tab bar on the phone, a top menu at a desk): contrast on the whole page at the phone
# size, in both schemes, and on the menu at the desk size; every other rule in light at both.
COLOURS = {"runOnly": ["color-contrast", "link-in-text-block"]}
NOT_COLOURS = {
    "rules": {"color-contrast": {"enabled": False}, "link-in-text-block": {"enabled": False}}
}
AXE_CHECKS = {
    ("phone", "light"): [(None, {"rules": {"target-size": {"enabled": True}}})],
    ("phone", "dark"): [(None, COLOURS)],
    ("desk", "light"): [(None, NOT_COLOURS), (".topbar", COLOURS)],
    ("desk", "dark"): [(".topbar", COLOURS)],
}
# Colours change at once when the scheme does (Pico eases a link's colour over 0.2 s, and axe would
# read one half way); a constructed sheet, which the page's CSP allows.
NO_TRANSITIONS = """() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("*, *::before, *::after { transition: none !important; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}"""
# Pages a route shows beside its plain one.
VARIANTS = {"touchpoints.index": ("", "?view=map")}


@pytest.fixture(scope="module")
def rows(server_app, server):
    """Rep1's rows for each URL variable: a customer whose name is an attack, with a contact
    whose name and email are long unbroken words; a jobsite; an open task; an account with no
    touchpoint; the demo's call type; and today's plan, with a stop."""
    with server_app.app_context():
        rep = db.session.scalar(select(User).filter_by(username="rep1"))
        hostile = db.session.scalar(select(Account).filter_by(name=HOSTILE))
        contact = Contact(customer=hostile, name=LONG_NAME, email=LONG_EMAIL, title=HOSTILE)
        db.session.add(contact)
        db.session.commit()
        jobsite = db.session.scalar(
            select(Account).filter_by(kind="jobsite", sales_rep_id=rep.id).order_by(Account.id)
        )
        record = db.session.scalar(
            select(TouchpointRecord)
            .where(TouchpointRecord.assigned_to_id == rep.id, TouchpointRecord.is_open_task)
            .order_by(TouchpointRecord.id)
        )
        bare = db.session.scalar(
            select(Account)
            .filter_by(kind="customer", sales_rep_id=rep.id, active=True)
            .where(~select(Touchpoint.id).filter_by(account_id=Account.id).exists())
            .order_by(Account.id)
        )
        values = SimpleNamespace(
            rep=rep.id,
            customer=hostile.id,
            jobsite=jobsite.id,
            bare=bare.id if bare else hostile.id,
            contact=contact.id,
            record=record.id,
            touchpoint=db.session.scalar(select(Touchpoint.id).filter_by(account_id=hostile.id)),
            call_type=db.session.scalar(select(CallLogType.id).order_by(CallLogType.id)),
        )
        db.session.remove()
    return values


def _plan(app, rep_id):
    """Rep1's plan of today and one of its stops."""
    with app.app_context():
        plan = db.session.scalar(
            select(Plan).filter_by(rep_id=rep_id, day=today_in(TIMEZONE)).order_by(Plan.id.desc())
        )
        stop = db.session.scalar(select(PlanStop.id).filter_by(plan_id=plan.id).limit(1))
        db.session.remove()
        return plan.id, stop


def _args(rule, rows, plan):
    """The rule's URL variables, from rows the user may see."""
    kind = (rule.defaults or {}).get("kind", "customer")
    account = {
        "accounts.add_touchpoint": rows.bare if kind == "customer" else rows.jobsite,
    }.get(rule.endpoint, rows.customer if kind == "customer" else rows.jobsite)
    values = {
        "account_id": account,
        "customer_id": rows.customer,
        "contact_id": rows.contact,
        "record_id": rows.record,
        "touchpoint_id": rows.touchpoint,
        "rep_id": rows.rep,
        "user_id": rows.rep,
        "type_id": rows.call_type,
        "plan_id": plan[0],
        "stop_id": plan[1],
    }
    return {name: values[name] for name in rule.arguments if name != "kind"}


def _may_open(user, endpoint):
    access = TABLE[endpoint].access
    if user == "anonymous":
        return access == PUBLIC
    if access == ADMIN_ONLY:
        return user == "admin"
    if access == MANAGER_ONLY:
        return user in ("manager1", "admin")
    if access == REP_OWN:  # rep1's plan: 404 for everyone else
        return user == "rep1"
    return True


def _pages(app, user, rows, plan):
    """The paths of the pages `user` may open, by endpoint."""
    found = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            if not _may_open(user, rule.endpoint):
                continue
            path = rule.build(_args(rule, rows, plan), append_unknown=False)[1]
            for variant in VARIANTS.get(rule.endpoint, ("",)):
                found[f"{rule.endpoint} {path}{variant}"] = path + variant
    return found


def _signed_in(browser, server, user):
    """A phone-sized tab of its own context, signed in as `user` (unless "anonymous"), its
    service worker blocked (each page comes from the server), nothing off the app, axe-core
    loaded into every page. The map's frames inside a page are not loaded: each is a page of the
    URL map, audited as itself."""

    def only_the_app(route):
        request = route.request
        if request.resource_type == "document" and request.frame.parent_frame is not None:
            return route.abort()
        if request.url.startswith(server.url + "/"):
            return route.continue_()
        return route.abort()

    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block"
    )
    context.set_default_timeout(15_000)
    context.route("**/*", only_the_app)
    context.add_init_script(path=str(AXE))
    tab = context.new_page()
    if user != "anonymous":
        tab.goto(server.url + "/login")
        tab.fill("input[name=username]", user)
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(server.url + "/")
    return tab


@pytest.fixture(scope="module")
def plan(browser, server, server_app, rows):
    """Rep1 plans today (as the Plan button does), for the plan's own map and stop."""
    tab = _signed_in(browser, server, "rep1")
    tab.goto(server.url + "/plan")
    token = tab.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = tab.request.post(server.url + "/plan", form={**PLAN, "csrf_token": token})
    tab.context.close()
    assert answer.ok, answer.status
    return _plan(server_app, rows.rep)


def _is_page(answer):
    """Whether an answer is a page: a whole HTML document, not data (JSON, CSV, a calendar) nor
    a fragment that htmx asks for (a count)."""
    html = answer.headers.get("content-type", "").startswith("text/html")
    return html and answer.text().lstrip()[:15].lower() == "<!doctype html>"


def _audit(tab, viewport, scheme):
    """What is wrong with the page in `tab`."""
    problems = []
    found = tab.evaluate(AUDIT)
    if found["sideways"] > 0:
        problems.append(f"scrolls sideways by {found['sideways']} px")
    if viewport == "phone" and found["small"]:
        problems.append(f"targets under 44x44: {found['small']}")
    for where, rules in AXE_CHECKS[viewport, scheme]:
        problems += [f"axe {line}" for line in tab.evaluate(AXE_RUN, [where, rules])]
    return problems


@pytest.fixture(scope="module")
def audits(browser, server, server_app, rows, plan):
    """Each user's pages, each loaded once and audited at both sizes in both schemes (a resize
    and a scheme change lay the page out again, no reload): the pages audited, and the problems
    by (viewport, scheme)."""
    done = {}

    def of(user):
        if user not in done:
            tab = _signed_in(browser, server, user)
            audited, problems = [], {key: [] for key in AXE_CHECKS}
            for name, path in _pages(server_app, user, rows, plan).items():
                url = server.url + path
                tab.set_viewport_size(PHONE)
                answer = tab.goto(url)
                if tab.url != url:
                    continue  # sent on to another page (Sign in, once signed in): audited as itself
                if answer.status not in (200, 409):
                    for found in problems.values():
                        found.append(f"{name}: answered {answer.status}")
                    continue
                if not _is_page(answer):
                    continue
                audited.append(name)
                tab.evaluate(NO_TRANSITIONS)
                for viewport, scheme in AXE_CHECKS:
                    tab.set_viewport_size(VIEWPORTS[viewport])
                    tab.emulate_media(color_scheme=scheme)
                    problems[viewport, scheme] += [
                        f"{name}: {problem}" for problem in _audit(tab, viewport, scheme)
                    ]
            tab.context.close()
            done[user] = audited, problems
        return done[user]

    return of


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("user", USERS)
def test_every_page_fits_the_screen_and_the_thumb_and_passes_axe(audits, user, viewport, scheme):
    audited, problems = audits(user)
    assert len(audited) >= 2, audited
    assert problems[viewport, scheme] == [], "\n".join(problems[viewport, scheme])
