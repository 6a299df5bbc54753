"""deploy/replicas.sh with HAProxy and stand-in replicas: start, stickiness, a replica killed and revived,
a reload to another N, stop. The stand-ins are tiny HTTP servers that answer /_stcore/health with "ok" and
every other path with their port (PYTHON points the script at a wrapper that starts one for
`python -m streamlit run ...`), so this checks the script and the HAProxy config in seconds, without
Streamlit. The stand-ins also hold websockets (/_stcore/stream, answering with their port), so the test
sees websockets pass through HAProxy, stay with the cookie's replica, and a killed replica's sockets close
while the other replica's stay open. With real replicas: tests/browser/test_restart.py (a replica killed under
a student's page) and benchmarks/capacity.py --kill (under load).

Needs Debian's haproxy and the script's fixed loopback ports (8501, 8404, 8511-8513) free; skipped otherwise."""
from __future__ import annotations

import contextlib
import http.cookiejar
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "replicas.sh"
PORTS = (8501, 8404, 8511, 8512, 8513)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


pytestmark = [
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (apt-get install -y haproxy)"),
    pytest.mark.skipif(not all(port_free(p) for p in PORTS), reason=f"a port of {PORTS} is in use"),
]

STAND_IN = """
import sys
from http import HTTPStatus
from websockets.sync.server import serve

port = int(sys.argv[sys.argv.index("--server.port") + 1])

def http(connection, request):  # Streamlit's health route, pages; the stream's handshake goes on
    if request.path == "/_stcore/stream":
        return None
    return connection.respond(HTTPStatus.OK, "ok" if request.path == "/_stcore/health" else str(port))

def stream(ws):  # answers every message with this replica's port
    for message in ws:
        ws.send(f"{port}:{message}")

with serve(stream, "127.0.0.1", port, process_request=http, subprotocols=["streamlit"]) as server:
    server.serve_forever()
"""


@pytest.fixture
def env(tmp_path):
    (tmp_path / "stand_in.py").write_text(STAND_IN)
    wrapper = tmp_path / "python"
    wrapper.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env bash
        if [[ "${{1:-}}" == "-m" && "${{2:-}}" == "streamlit" ]]; then exec {sys.executable} {tmp_path / "stand_in.py"} "$@"; fi
        exec {sys.executable} "$@"
        """))
    wrapper.chmod(0o755)
    env = {**os.environ, "PYTHON": str(wrapper), "GENLAB_RUN_DIR": str(tmp_path / "run")}
    yield env
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)


def script(env, *args) -> str:
    result = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Browser:
    """Cookies kept, as a browser keeps them; which replica answered each request; a websocket with them."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.sockets = contextlib.ExitStack()

    def get(self, path="/gan_sampler") -> tuple[str, str]:
        with self.opener.open(f"http://127.0.0.1:8501{path}", timeout=10) as r:
            return r.headers["X-GenLab-Replica"], r.read().decode()

    def stream(self):
        from websockets.sync.client import connect

        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        return self.sockets.enter_context(connect("ws://127.0.0.1:8501/_stcore/stream", subprotocols=["streamlit"],
                                                  additional_headers={"Cookie": cookies}, open_timeout=10))

    def close(self):
        self.sockets.close()


def ask(ws, text: str) -> int:
    """The port of the replica that answered `text` on this websocket."""
    ws.send(text)
    port, echoed = ws.recv(timeout=10).split(":", 1)
    assert echoed == text
    return int(port)


def test_start_stick_kill_revive_reload_stop(env):
    out = script(env, "start", "2")
    assert "replica r1 healthy" in out and "replica r2 healthy" in out
    a, b = Browser(), Browser()
    seen_a, seen_b = {a.get()[0] for _ in range(5)}, {b.get()[0] for _ in range(5)}
    assert len(seen_a) == 1 and len(seen_b) == 1, "each browser stays on one replica"
    assert seen_a != seen_b, "leastconn: two new browsers go to two replicas"
    replica, body = a.get()
    assert body == str(8510 + int(replica[1:])), "replica ri listens on 8510 + i"
    ws_a, ws_b = a.stream(), b.stream()
    assert ask(ws_a, "hello") == int(body), "the websocket goes to the browser's replica"
    port_b = ask(ws_b, "hello")
    assert port_b == int(b.get()[1])

    victim = int(replica[1:])
    assert "SIGKILL" in script(env, "kill", str(victim))
    with pytest.raises(ConnectionClosed):  # the killed replica's sockets close at once...
        ask(ws_a, "are you there?")
    assert ask(ws_b, "still there") == port_b, "...and the other replica's stay open"
    t0 = time.perf_counter()
    moved, _ = a.get()
    assert moved != replica and time.perf_counter() - t0 < 0.5, "redispatched at once to a live replica"
    assert {a.get()[0] for _ in range(3)} == {moved}, "and kept there (a new cookie)"
    assert ask(a.stream(), "again") == 8510 + int(moved[1:]), "a new websocket goes there too"
    assert f"r{victim}: running" not in script(env, "status")

    script(env, "revive", str(victim))
    script(env, "start", "3")  # a soft reload of HAProxy with three servers
    status = script(env, "status")
    assert all(f"r{i}: running" in status for i in (1, 2, 3)), status
    deadline = time.time() + 10
    while "DOWN" in status and time.time() < deadline:  # health checks: rise 2, 1 s apart
        time.sleep(0.5)
        status = script(env, "status")
    assert status.count(" UP ") >= 3, status
    assert {b.get()[0] for _ in range(3)} == seen_b, "a reload keeps browsers where they were"

    a.close()
    b.close()
    script(env, "stop")
    assert "running" not in script(env, "status").replace("not running", "")
    with pytest.raises(OSError):
        Browser().get()
