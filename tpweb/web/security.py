"""Response headers that every answer carries (a Content-Security-Policy and its companions), and
the checks every request passes before a view reads it: its body's type, its size, no NUL.

No page has an inline script, so the policy allows script files from this origin only. The map's
own document is the one exception, and it declares the hashes of folium's inline scripts itself
(`allow_inline_scripts`), never of a data block; a response that already carries a policy keeps it.
"""

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

# A script element: its start tag's attributes and its text, up to the first "</script", where a
# browser ends it too.
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script", re.S | re.I)
ATTRIBUTE = re.compile(r"""(?:^|\s)([^\s"'=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# The types a browser runs as script (HTML: no type, an empty one, JavaScript, a module). Any other
# block is data, often user text (the map's marker rows): its hash must never be allowed to run.
EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module"}


def _tile_origin():
    url = current_app.config.get("TPWEB_TILE_URL") or ""
    parts = urlsplit(url.replace("{s}", "a"))
    if not parts.scheme or not parts.netloc:
        return ""
    # {s} subdomains (a., b., c.) all serve tiles.
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f" {parts.scheme}://{host}"


def policy(script_src="'self'"):
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            # Leaflet positions map panes with style attributes.
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{_tile_origin()}",
            # The service worker fetches the map's tiles itself, to keep those the phone has shown.
            f"connect-src 'self'{_tile_origin()}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            # The map's frame is shown inside the app's own pages, and nowhere else.
            "frame-ancestors 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
        ]
    )


def executable_inline_scripts(document):
    """The text of each inline script in `document` that a browser would run."""
    for attributes, body in SCRIPT.findall(document):
        named = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in ATTRIBUTE.finditer(attributes)
        }
        if "src" not in named and named.get("type", "").strip().lower() in EXECUTABLE_TYPES:
            yield body


def allow_inline_scripts(response):
    """Let exactly the executable inline scripts in `response`'s body run, by their hashes."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in executable_inline_scripts(response.get_data(as_text=True))
    ]
    response.headers["Content-Security-Policy"] = policy(" ".join(["'self'", *hashes]))
    return response


def add_headers(response):
    response.headers.setdefault("Content-Security-Policy", policy())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


# The body types an HTML form sends; multipart only where a view takes files (`takes_files`).
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def takes_files(view):
    """Mark `view` as one whose form uploads files: it alone is sent multipart/form-data."""
    view.takes_files = True
    return view


def refuse_content_type():
    """415 for a write whose body is not what the app's forms send: Flask-WTF would read JSON as
    the form, typed values and all, past the rules that hold for text fields (500s, a NUL stored,
    30.7 days saved as 30). An empty body with no type is no body (a test client's bare POST);
    browsers, htmx and the offline queue send the form type even then."""
    if request.method not in BODY_METHODS or request.routing_exception is not None:
        return None
    allowed = {FORM}
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "takes_files", False):
        allowed.add(MULTIPART)
    if request.mimetype in allowed or (not request.mimetype and not _has_body()):
        return None
    kinds = " or ".join(sorted(allowed))
    abort(415, f"This address takes a form ({kinds}), not {request.mimetype or 'an untyped body'}.")


def _has_body():
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def refuse_oversized():
    """413 before any view runs: a view that refuses early must not leave the body unchecked."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)


def refuse_nul():
    """400 for a NUL character wherever a value arrives: the path, a query or form field, an
    uploaded file's name, a header. No text has one, and PostgreSQL cannot store one (a 500
    until tests/test_fuzz.py sent some)."""
    texts = [
        request.path,
        *(text for pair in request.args.items(multi=True) for text in pair),
        *(text for pair in request.form.items(multi=True) for text in pair),
        *(text for pair in request.headers.items() for text in pair),
    ]
    for name, upload in request.files.items(multi=True):
        texts += [name, upload.filename]
    if any("\x00" in (text or "") for text in texts):
        abort(400, "Text cannot contain a NUL character.")


def init_app(app):
    # Behind reverse proxies the app trusts, the client's address (for the sign-in limits) and
    # scheme (for HSTS) come from their X-Forwarded-* headers; with none, those headers are
    # ignored, so a client cannot name its own address to dodge the limits.
    proxies = app.config["TPWEB_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    # First of all the request hooks: a body of the wrong type is refused before CSRF, the
    # sign-in limits (a 415 is not a sign-in attempt) or the sign-in check read anything.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_content_type)
    app.before_request(refuse_oversized)
    app.before_request(refuse_nul)
    app.after_request(add_headers)
