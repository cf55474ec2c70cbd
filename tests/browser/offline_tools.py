"""The offline tests' tools: a rep signed in with the week kept, an account's card, the count of
writes waiting, rows read on the server, and the map tiles the service worker keeps."""

import time

from playwright.sync_api import expect

from tpweb.extensions import db

TILES = "/static/vendor/leaflet-1.9.4/images/marker-icon.png?z={z}&x={x}&y={y}"
KEPT = """async () =>
    (await (await caches.open("tpweb-tiles")).keys()).map((request) => request.url)"""


def rows(server_app, query):
    with server_app.app_context():
        try:
            return db.session.execute(query).all()
        finally:
            db.session.remove()


def ready_offline(page, sign_in, username):
    """Sign in and wait until the service worker has kept the rep's week."""
    sign_in(username)
    expect(page.locator("[data-offline-saved]")).to_be_visible(timeout=20_000)


def card(page, name):
    return page.locator("article.tp", has=page.get_by_role("link", name=name, exact=True))


def waiting(page):
    return page.locator("#offline-bar .offline-count")


def kept_tiles(page, at_least, seconds=10):
    deadline = time.monotonic() + seconds
    while True:
        urls = page.evaluate(KEPT)
        if len(urls) >= at_least or time.monotonic() > deadline:
            return set(urls)
        time.sleep(0.2)
