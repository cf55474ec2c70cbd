"""`make lighthouse`: Lighthouse 13 (mobile) on every page a rep works in (Today, the list, the
map, Plan my day, My tasks, contacts, a contact, a customer, My cadence, Settings), signed in as
the demo's rep1, against the app as production serves it (gunicorn with tpweb's settings:
compressed pages, hashed static files; docs/deploy.md); the scores into docs/benchmarks.md
(between its lighthouse markers) and on stdout.

Lighthouse 13 needs Node 22: both come from tools/lighthouse/ (npm ci), apart from the app's own
Node tools. Chromium is Debian's. No page loads anything from outside (no map tiles).

`python scripts/lighthouse.py contacts`: only the pages whose name holds a given word, each
audited as often as LIGHTHOUSE_RUNS says (the median's scores), printed and not written down.
"""

import html.parser
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from screenshots import seed, serve

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools" / "lighthouse" / "node_modules" / ".bin"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- lighthouse:begin -->", "<!-- lighthouse:end -->"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 0.95
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")  # fmt: skip


class CsrfToken(html.parser.HTMLParser):
    token = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrf_token":
            self.token = attrs.get("value")


class LoopbackPolicy(http.cookiejar.DefaultCookiePolicy):
    """Production's cookies are Secure; on loopback, plain HTTP is as private as TLS."""

    def return_ok_secure(self, cookie, request):
        return True


def session_cookie(url):
    """Sign in as rep1 as a browser would; the session cookie's header value."""
    jar = http.cookiejar.CookieJar(LoopbackPolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = CsrfToken()
    form.feed(opener.open(url + "/login").read().decode())
    data = {"username": "rep1", "password": "tpweb-demo", "csrf_token": form.token}
    opener.open(url + "/login", urllib.parse.urlencode(data).encode())
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def audit(url, cookie, folder):
    """Lighthouse's four category scores for `url`, signed in."""
    report = Path(folder) / "report.json"
    subprocess.run(
        [
            str(TOOLS / "node"),
            str(TOOLS / "lighthouse"),
            url,
            "--quiet",
            "--form-factor=mobile",
            "--only-categories=" + ",".join(CATEGORIES),
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            "--extra-headers=" + json.dumps({"Cookie": cookie}),
            "--output=json",
            f"--output-path={report}",
        ],
        env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        check=True,
        timeout=300,
    )
    found = json.loads(report.read_text())
    if found.get("runtimeError"):
        sys.exit(f"{url}: {found['runtimeError']}")
    # What the performance score is made of, to see which part costs it points.
    print("  ", ", ".join(f"{key} {found['audits'][key]['displayValue']}" for key in METRICS))
    return {name: found["categories"][name]["score"] for name in CATEGORIES}


def write_doc(rows, when):
    lines = [
        BEGIN,
        "",
        f"Measured {when} by `make lighthouse` (Lighthouse 13, mobile, signed in as rep1, "
        "the demo data, served by gunicorn with the production settings; target: every "
        f"category >= {TARGET}).",
        "",
        "| page | " + " | ".join(CATEGORIES) + " | met |",
        "| --- |" + " ---: |" * len(CATEGORIES) + " --- |",
    ]
    for page, scores in rows:
        met = "yes" if min(scores.values()) >= TARGET else "NO"
        values = " | ".join(f"{scores[name]:.2f}" for name in CATEGORIES)
        lines.append(f"| {page} | {values} | {met} |")
    lines += ["", END]
    text = DOC.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Lighthouse\n\n" + block + "\n"
    DOC.write_text(text)


def median(runs):
    """Each category's median over several runs of one page."""
    return {name: sorted(run[name] for run in runs)[len(runs) // 2] for name in CATEGORIES}


def main():
    only = sys.argv[1:]
    times = int(os.environ.get("LIGHTHOUSE_RUNS", "1"))
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{folder}/lighthouse.sqlite"
        customer_id, contact_id, _, _ = seed(database_url)
        process, url = serve(database_url, production=True)
        try:
            cookie = session_cookie(url)
            pages = {
                "Today (/)": "/",
                "the list (/touchpoints)": "/touchpoints",
                "the map (/touchpoints?view=map)": "/touchpoints?view=map",
                "Plan my day (/plan)": "/plan",
                "My tasks (/tasks)": "/tasks",
                "contacts (/contacts)": "/contacts",
                "a contact (/contacts/<id>)": f"/contacts/{contact_id}",
                "a customer (/customers/<id>)": f"/customers/{customer_id}",
                "My cadence (/reports/me)": "/reports/me",
                "Settings (/settings)": "/settings",
            }
            rows = []
            for name, path in pages.items():
                if only and not any(word in name for word in only):
                    continue
                scores = median([audit(url + path, cookie, folder) for _ in range(times)])
                print(name, scores)
                rows.append((name, scores))
        finally:
            process.terminate()
            process.wait(timeout=10)
    if not only:
        write_doc(rows, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


if __name__ == "__main__":
    main()
