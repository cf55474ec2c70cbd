"""Offline-first on the server: the manifest, the service worker and its shell, what a phone keeps
for offline use (the user's own coming week, nobody else's), and the answers the offline queue
relies on. The worker itself runs in tests/browser/test_offline.py."""

import re
import struct
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tpweb.config import OPENSTREETMAP_TILES, tile_prefetch
from tpweb.extensions import db
from tpweb.models import CallLog
from tpweb.web.access import PUBLIC_ENDPOINTS
from tpweb.web.offline import SHELL_FILES, WORKER_FILES

from .conftest import Auth

HTMX = {"HX-Request": "true"}
ASSET = re.compile(r"""(?:src|href)=["'](/static/[^"'?#]+)""")


def due_in(make, rep, today, days, name, frequency=30):
    customer = make.customer(rep=rep, name=name)
    return make.touchpoint(
        customer, last_call=today + timedelta(days=days - frequency), frequency_days=frequency
    )


def static_file(client, url):
    """A static file's status and bytes, its response closed (it streams from an open file)."""
    with client.get(url) as response:
        return response.status_code, response.get_data()


def test_the_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.json
    assert manifest["name"] and manifest["short_name"] == "Touchpoints"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == manifest["scope"] == "/"
    assert manifest["theme_color"] == "#007a50"
    for icon in manifest["icons"]:
        status, png = static_file(client, icon["src"])
        assert status == 200
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert icon["sizes"] == f"{width}x{height}" and width in (192, 512)
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}


def test_the_service_worker_is_served_from_the_root_and_never_cached(client):
    response = client.get("/sw.js?v=1")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert 'addEventListener("fetch"' in response.text


def test_every_page_links_the_manifest_and_registers_the_worker_from_a_file(client, rep):
    page = client.get("/").text

    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    worker = re.search(r'src="/static/offline.js" data-worker="([^"]+)"', page)
    assert worker and worker.group(1).startswith("/sw.js?v=")
    # No inline script: the policy allows script files from this origin only.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert 'id="offline-bar"' in page


def test_every_page_names_its_icon_and_gives_htmx_its_token_inside_the_swapped_body(client, rep):
    anonymous = client.application.test_client()
    for url in ("/", "/touchpoints?view=list", "/offline", "/login"):
        page = (anonymous if url == "/login" else client).get(url).text
        icon = re.search(r'<link rel="icon" href="([^"]+)"', page)
        assert icon and icon.group(1) in client.get("/offline/shell").json["files"], url
        # A boosted page keeps the <body> it started with: the token cannot live there.
        assert "hx-headers" not in re.search(r"<body[^>]*>", page).group(0), url
        assert re.search(r"""<main [^>]*hx-headers='\{"X-CSRFToken": "[^"]+"\}'>""", page), url


def test_the_shell_holds_every_static_file_the_pages_and_the_map_load(client, rep, make, today):
    due_in(make, rep, today, -1, "Shell Co")
    shell = client.get("/offline/shell").json
    pages = [client.get(url).text for url in ("/", "/touchpoints?view=map")]
    pages.append(client.get("/touchpoints/map-frame").text)

    loaded = {asset for page in pages for asset in ASSET.findall(page)}
    assert loaded and loaded <= set(shell["files"]), loaded - set(shell["files"])
    for url in shell["files"]:
        assert static_file(client, url)[0] == 200, url
    assert len(SHELL_FILES) + 2 == len(shell["files"])
    assert shell["writes"] == {
        "complete": "/touchpoints/{id}/complete",
        "edit": "/touchpoints/{id}/edit",
        "record": "/contacts/{id}/touchpoints",
        "response": "/tasks/{id}/response",
    }
    assert shell["step_two"] == "/touchpoints/{id}/edit?logged=1"


def test_every_module_of_the_page_side_is_in_the_shell(client):
    """offline.js imports static/offline/*.js: one the phone did not keep stops it offline."""
    static = Path(client.application.static_folder)
    modules = {f"offline/{path.name}" for path in (static / "offline").glob("*.js")}
    assert modules <= set(SHELL_FILES), modules - set(SHELL_FILES)


def test_the_worker_and_the_modules_it_imports_are_in_its_version(client):
    """Every module of the worker (static/sw.js, static/sw/) counts in the version in its URL, so
    a change to any of them installs a new worker with a new shell."""
    static = Path(client.application.static_folder)
    modules = {f"sw/{path.name}" for path in (static / "sw").glob("*.js")}
    assert {"sw.js", *modules} <= set(WORKER_FILES)
    for name in WORKER_FILES:
        assert (static / name).is_file(), name
    imported = {
        name
        for path in (static / "sw.js", *(static / "sw").glob("*.js"))
        for name in re.findall(r'from "\./(?:static/)?(?:sw/)?([^"]+)"', path.read_text())
    }
    assert all(any(file.endswith(name.lstrip("./")) for file in WORKER_FILES) for name in imported)


def test_the_worker_is_told_the_tile_url_and_may_fetch_tiles(client, app, monkeypatch):
    """The worker keeps the tiles a phone has shown: it has their URL template from the shell, and
    its own fetches of them (CORS first) are allowed by its Content-Security-Policy."""
    monkeypatch.setitem(app.config, "TPWEB_TILE_URL", "https://tiles.example.com/{z}/{x}/{y}.png")
    assert client.get("/offline/shell").json["tiles"] == "https://tiles.example.com/{z}/{x}/{y}.png"
    policy = client.get("/sw.js").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://tiles.example.com;" in policy

    monkeypatch.setitem(app.config, "TPWEB_TILE_URL", "")
    assert client.get("/offline/shell").json["tiles"] == ""
    assert "connect-src 'self';" in client.get("/sw.js").headers["Content-Security-Policy"]


def test_tiles_ahead_only_from_the_operators_own_tile_server(
    client, app, rep, make, today, monkeypatch
):
    """TPWEB_TILE_PREFETCH=1 lets phones keep the streets around the week's accounts before a
    visit; never from OpenStreetMap, whose policy forbids it, and not without the flag."""
    assert tile_prefetch("1", "https://tiles.example.com/{z}/{x}/{y}.png")
    assert not tile_prefetch("", "https://tiles.example.com/{z}/{x}/{y}.png")
    assert not tile_prefetch("1", OPENSTREETMAP_TILES)
    assert not tile_prefetch("1", "https://{s}.tile.OpenStreetMap.org/{z}/{x}/{y}.png")
    assert not tile_prefetch("1", "")

    account = make.customer(rep=rep, name="Placed Co", latitude=41.9, longitude=-87.6)
    make.touchpoint(account, next_call=today)
    assert client.get("/offline/shell").json["tile_prefetch"] is False
    assert client.get("/offline/urls").json["places"] == []

    monkeypatch.setitem(app.config, "TPWEB_TILE_URL", "/tiles/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "TPWEB_TILE_PREFETCH", True)
    assert client.get("/offline/shell").json["tile_prefetch"] is True
    assert client.get("/offline/urls").json["places"] == [[41.9, -87.6]]


def test_a_queued_writes_placeholder_is_the_servers_own_template(client):
    pending = client.get("/offline/shell").json["pending"]

    for kind in ("step", "card", "entry"):
        assert f'<template data-pending="{kind}">' in pending
    assert 'class="tp tp--pending"' in pending and 'class="entry entry--pending"' in pending


def test_the_shell_and_the_offline_page_need_no_sign_in(client):
    # A phone installs the worker, and may show this page, with nobody signed in.
    assert client.get("/offline/shell").status_code == 200
    page = client.get("/offline")
    assert page.status_code == 200
    assert "This page was not saved on this phone" in page.text


def test_the_offline_page_never_sets_the_session_cookie(client, make):
    """The worker fetches it as it installs, often while the rep signs in: setting the cookie
    from the session it was asked with would undo the sign-in."""
    client.get("/login")  # an anonymous session, with a CSRF token
    assert "Set-Cookie" not in client.get("/offline").headers
    Auth(client).login(make.rep())
    assert "Set-Cookie" not in client.get("/offline").headers


def test_besides_signing_in_only_the_offline_shell_and_the_probes_are_public():
    """And the two whose URL holds the key: a calendar feed's secret, a reminder's signed action
    (tests/test_calendar_feed.py, tests/test_one_tap.py)."""
    assert {
        "auth.login",
        "static",
        "offline.manifest",
        "offline.service_worker",
        "offline.shell",
        "offline.page",
        "reminders.feed",
        "reminders.action",
        # tests/test_probes.py: no data; /metrics for the allowed addresses only.
        "probes.healthz",
        "probes.readyz",
        "probes.metrics_page",
    } == PUBLIC_ENDPOINTS


def test_what_to_keep_needs_a_user(client):
    assert client.get("/offline/urls", headers=HTMX).status_code == 401
    assert client.get("/offline/attention").status_code == 302


def test_a_phone_keeps_the_reps_coming_week_and_nothing_of_anyone_else(client, make, rep, today):
    overdue = due_in(make, rep, today, -4, "Overdue Co")
    this_week = due_in(make, rep, today, 7, "This Week Co")
    later = due_in(make, rep, today, 8, "Next Week Co")
    jobsite = make.jobsite(overdue.account, rep=rep, name="Overdue Co site")
    on_site = make.touchpoint(jobsite, last_call=today - timedelta(days=30), frequency_days=30)
    buyer = make.contact(overdue.account, name="Buyer")
    task = make.record(buyer, rep, response_required=True)
    others = due_in(make, make.rep(), today, 0, "Someone Elses Co")

    response = client.get("/offline/urls", headers=HTMX)

    assert response.headers["Cache-Control"] == "no-store"
    keep = response.json
    assert keep["user"] == rep.id and keep["touchpoints"] == 3
    assert keep["csrf_token"]
    pages, fragments = keep["pages"], keep["fragments"]
    assert {
        "/",
        "/touchpoints?view=list",
        "/touchpoints?view=map",
        "/touchpoints/map-frame",
    } <= set(pages)
    for tp in (overdue, this_week, on_site):
        assert f"/touchpoints/{tp.id}" in pages
        assert f"/{tp.account.kind}s/{tp.account_id}" in pages
        assert {
            f"/touchpoints/{tp.id}/complete",
            f"/touchpoints/{tp.id}/edit?logged=1",
            f"/touchpoints/{tp.id}/edit",
        } <= set(fragments)
    assert f"/contacts/{buyer.id}" in pages
    assert f"/contacts/{buyer.id}/touchpoints" in fragments
    assert f"/tasks/{task.id}/response" in fragments
    everything = " ".join(pages + fragments)
    for tp in (later, others):
        assert not re.search(rf"/touchpoints/{tp.id}\b", everything)
        assert f"s/{tp.account_id}" not in everything
    assert len(pages) == len(set(pages)) and len(fragments) == len(set(fragments))


def test_the_attention_page_is_a_shell_filled_on_the_phone(client, rep):
    page = client.get("/offline/attention").text

    assert "Needs your attention" in page
    assert 'id="offline-attention"' in page


# What the offline queue relies on in the server's answers.


def test_a_queued_write_sent_again_with_a_fresh_csrf_token_is_a_replay(client, make, rep, today):
    """The queue sends each write with the token of the session it is sent in, not the one of
    the page it was made on: the key still names the same write."""
    tp = due_in(make, rep, today, -1, "Replay Co")
    phone = make.call_type("Phone")
    form = {
        "called_on": today.isoformat(),
        "duration_minutes": "15",
        "call_type": str(phone.id),
        "contact_id": "0",
        "notes": "",
    }
    headers = {**HTMX, "Idempotency-Key": "queued-1"}

    first = client.post(
        f"/touchpoints/{tp.id}/complete", data=form | {"csrf_token": "old"}, headers=headers
    )
    again = client.post(
        f"/touchpoints/{tp.id}/complete", data=form | {"csrf_token": "new"}, headers=headers
    )

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.text == first.text
    calls = select(func.count(CallLog.id)).where(CallLog.touchpoint_id == tp.id)
    assert db.session.scalar(calls) == 1


def edit_form(today, version):
    return {
        "last_call": today.isoformat(),
        "frequency_days": "14",
        "next_call": "",
        "comment": "",
        "version": version,
    }


def test_answers_carry_the_version_a_later_queued_write_is_based_on(client, make, rep, today):
    """Step one answers with step two's form at the touchpoint's new version, and a saved
    touchpoint's card says its version: the queue rebases the phone's next write on it."""
    tp = due_in(make, rep, today, -1, "Version Co")
    phone = make.call_type("Phone")
    form = {"called_on": today.isoformat(), "duration_minutes": "15", "call_type": str(phone.id)}

    answer = client.post(f"/touchpoints/{tp.id}/complete", data=form, headers=HTMX)
    version = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', answer.text).group(1)
    assert version == answer.headers["X-Touchpoint-Version"] == "2"
    kept = client.get(f"/touchpoints/{tp.id}/edit?logged=1", headers=HTMX)
    assert kept.headers["X-Touchpoint-Version"] == "2"

    edit = {
        "last_call": today.isoformat(),
        "frequency_days": "14",
        "next_call": "",
        "comment": "",
        "version": version,
    }
    card = client.post(f"/touchpoints/{tp.id}/edit", data=edit, headers=HTMX)
    assert f'id="touchpoint-{tp.id}"' in card.text
    # The queue reads the version from the header, never from the markup.
    assert card.headers["X-Touchpoint-Version"] == "3"


def test_a_replayed_answer_carries_the_version_its_write_left(client, make, rep, today):
    """A phone whose answer was lost sends the write again: the stored answer says the version
    that write left, so the next queued write to the touchpoint is based on it, not refused."""
    tp = due_in(make, rep, today, -1, "Replay Version Co")
    phone = make.call_type("Phone")
    form = {"called_on": today.isoformat(), "duration_minutes": "15", "call_type": str(phone.id)}
    key = {**HTMX, "Idempotency-Key": "lost-answer-1"}

    first = client.post(f"/touchpoints/{tp.id}/complete", data=form, headers=key)
    client.post(f"/touchpoints/{tp.id}/edit", data=edit_form(today, "2"), headers=HTMX)
    again = client.post(f"/touchpoints/{tp.id}/complete", data=form, headers=key)

    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["X-Touchpoint-Version"] == again.headers["X-Touchpoint-Version"] == "2"
