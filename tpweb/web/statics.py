"""Static files as production serves them: content-hashed names cached for a year, gzip and
Brotli copies made once, served by WhiteNoise before a request reaches Flask.

`build` copies static/ into a folder named by the digest of its contents, adds beside each file
a copy named by its own hash (`app.css` → `app.3f2a9c1d0b7e.css`), compresses each once with
WhiteNoise's compressor (Brotli and gzip) and writes the manifest that `url_for('static', ...)`
maps names through. It runs once per deploy, in the gunicorn master before it forks
(`tpweb.gunicorn_conf`); a process that finds its folder built uses it, and several starting at
once each build aside and keep the first folder renamed into place.

The ES modules keep their names: they import each other by relative paths (static/sw.js from
/sw.js, static/offline.js), which hashed names would break; they are revalidated by ETag.
"""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

MANIFEST = "manifest.json"
# Files whose names pages and modules must keep (ES modules, loaded by relative imports).
KEEP_NAMES = ("sw.js", "sw/", "offline.js", "offline/", "vendor/workbox-", "vendor/idb-")
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
COMPRESSED = (".gz", ".br")
# A name without a hash may change with a deploy: browsers revalidate it after a minute.
UNHASHED_MAX_AGE = 60


def _sources(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("."))


def digest_of(folder):
    """One digest of every file's name and contents: the built folder's name."""
    digest = hashlib.sha256()
    for path in _sources(folder):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def hashed_name(name, content):
    stem, dot, suffix = name.rpartition(".")
    if not dot or "/" in suffix or name.startswith(KEEP_NAMES):
        return name
    return f"{stem}.{hashlib.sha256(content).hexdigest()[:12]}.{suffix}"


def build(folder, root):
    """`folder` built under `root` (made if missing); the built folder's path."""
    folder, root = Path(folder), Path(root)
    built = root / digest_of(folder)
    if (built / MANIFEST).exists():
        return built
    root.mkdir(parents=True, exist_ok=True)
    work = root / f".{built.name}.{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    manifest = {}
    compressor = Compressor(quiet=True)
    for path in _sources(folder):
        name = path.relative_to(folder).as_posix()
        content = path.read_bytes()
        manifest[name] = hashed_name(name, content)
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(content)
        # Compressed once (Brotli's best takes a while), copied under the hashed name.
        copies = compressor.compress(str(work / name)) if compressor.should_compress(name) else []
        if manifest[name] != name:
            for made in [work / name, *map(Path, copies)]:
                shutil.copy2(made, work / (manifest[name] + made.name[len(Path(name).name) :]))
    (work / MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True))
    try:
        work.rename(built)
    except OSError:  # another process renamed its own build into place first
        shutil.rmtree(work, ignore_errors=True)
    return built


def init_app(app):
    """Serve the built static folder through WhiteNoise, and name files by their hashes."""
    built = build(app.static_folder, app.config["TPWEB_STATIC_ROOT"])
    manifest = json.loads((built / MANIFEST).read_text())

    @app.url_defaults
    def hashed(endpoint, values):
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])

    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(built),
        prefix=app.static_url_path,
        max_age=UNHASHED_MAX_AGE,
        immutable_file_test=lambda path, url: bool(HASHED.search(url)),
        add_headers_function=_headers,
    )
    app.extensions["tpweb.static_root"] = built


def _headers(headers, path, url):
    # WhiteNoise answers before Flask's after_request hooks (tpweb.web.security) would run.
    headers["X-Content-Type-Options"] = "nosniff"
