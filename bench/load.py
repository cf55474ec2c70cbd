"""Load on loopback: gunicorn serving bench.wsgi, and wrk (or, without it, a Python loader).

Every loop here is bounded by time or count and stops by itself; nothing leaves 127.0.0.1.
"""

import contextlib
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .database import ServerCpu, tagged

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %.1f %.1f\\n", summary.requests, summary.duration,
    summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(95), latency:percentile(50)))
end
"""


@dataclass
class Result:
    requests: int
    seconds: float
    bytes: int
    socket_errors: int
    bad_status: int
    p95_ms: float
    p50_ms: float
    cpu_seconds: float | None = None  # the server's workers', when it can be read
    db_cpu_seconds: float | None = None  # PostgreSQL's processes serving the workers', likewise

    @property
    def rps(self):
        return self.requests / self.seconds

    @property
    def bytes_per_request(self):
        return self.bytes / max(1, self.requests)


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A running gunicorn: its base URL, and the CPU time its workers have used so far (and, on
    PostgreSQL, the server processes serving their connections: `db_cpu_seconds`)."""

    def __init__(self, base, pid, db_cpu=None, db_tag=None):
        self.base, self.pid, self.db_tag = base, pid, db_tag
        self.db_cpu_seconds = db_cpu or (lambda: None)

    def cpu_seconds(self):
        """User and system CPU of the workers (Linux /proc; None elsewhere).

        On a machine shared with other work, CPU per request is steadier than requests per
        second: the report gives both.
        """
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            ticks = 0
            for child in children:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            return None
        return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def gunicorn(database_url, workers, env=None):
    """Serve bench.wsgi with `workers` sync workers on a free loopback port; yield a Server."""
    port = free_port()
    tag = f"tpweb-bench-{port}"  # its PostgreSQL connections' name
    db_cpu = ServerCpu(database_url, tag)
    env = {**os.environ, **(env or {}), "TPWEB_BENCH_DATABASE_URL": tagged(database_url, tag),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
               f"{HOST}:{port}", "--log-level", "warning", "bench.wsgi:app"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if request(base, "/login")[0] == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield Server(base, server.pid, db_cpu, tag)
    finally:
        db_cpu.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def request(base, path, headers=None, method="GET", body=None):
    """One request: (status, headers, body bytes)."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def sign_in(base, username, password):
    """Sign in through /login as a browser does; return the Cookie header for the session."""
    status, headers, body = request(base, "/login")
    cookie = _cookie(headers)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token})
    status, headers, _ = request(
        base,
        "/login",
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        "POST",
        form,
    )
    if status != 303:
        raise RuntimeError(f"signing in as {username} answered {status}")
    return _cookie(headers)


def _cookie(headers):
    return "; ".join(v.split(";")[0] for k, v in headers.items() if k.lower() == "set-cookie")


def settled(base, path, headers):
    """`headers` with the Cookie a browser would hold after opening `path` (a page stores its
    CSRF token in the session once), so load runs do not pay for a new cookie each time."""
    for _ in range(3):
        status, answer, _ = request(base, path, headers)
        cookie = _cookie(answer)
        if not cookie:
            return headers
        headers = {**headers, "Cookie": cookie}
    raise RuntimeError(f"{path} sets a new cookie on every request")


def loader():
    return "wrk" if shutil.which("wrk") else "python"


def load(base, path, headers, seconds, connections):
    """`connections` clients asking for `path` for `seconds`, each as fast as answered."""
    if loader() == "wrk":
        return _wrk(base + path, headers, seconds, connections)
    return _python_load(base, path, headers, seconds, connections)


def _wrk(url, headers, seconds, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        duration = f"-d{max(1, round(seconds))}s"  # wrk takes whole seconds
        command = ["wrk", "-t1", f"-c{connections}", duration, "--timeout", "10s",
                   "-s", script.name]  # fmt: skip
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("WRK "))
    n, micros, size, socket_errors, bad, p95, p50 = line.split()[1:]
    return Result(int(n), int(micros) / 1e6, int(size), int(socket_errors), int(bad),
                  float(p95) / 1000, float(p50) / 1000)  # fmt: skip


def _python_load(base, path, headers, seconds, connections):
    """A plain loader for machines without wrk: threads, one connection each."""
    parts = urllib.parse.urlsplit(base)
    deadline = time.monotonic() + seconds
    latencies, sizes, bad = [], [], []
    lock = threading.Lock()

    def client():
        mine, size, wrong = [], 0, 0
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while (start := time.monotonic()) < deadline:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            mine.append(time.monotonic() - start)
            size += len(body)
            wrong += response.status >= 400
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.close()
        with lock:
            latencies.extend(mine)
            sizes.append(size)
            bad.append(wrong)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0] * 19
    return Result(len(latencies), elapsed, sum(sizes), 0, sum(bad), cuts[18] * 1000,
                  statistics.median(latencies or [0]) * 1000)  # fmt: skip
