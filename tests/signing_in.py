"""Signing in through the real login form with its CSRF token, and the GET URLs behind the login
wall."""

import html
import json
import re

from tpweb.web.access import PUBLIC_ENDPOINTS

from . import factories


def get_routes(app):
    """Every GET URL but the public ones (/login, static files, the offline shell), <int:...>
    arguments filled with 1."""
    return sorted(
        re.sub(r"<\w+>", "customers", re.sub(r"<int:\w+>", "1", rule.rule))
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint not in PUBLIC_ENDPOINTS
    )


def csrf_token(page):
    """The token htmx sends on every request, from `<main hx-headers='{...}'>`."""
    attribute = re.search(r"<main[^>]*\shx-headers='([^']*)'", page)
    assert attribute, "no hx-headers on <main>"
    return json.loads(html.unescape(attribute.group(1)))["X-CSRFToken"]


def csrf_sign_in(client, user):
    token = csrf_token(client.get("/login").text)
    data = {"username": user.username, "password": factories.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 303
