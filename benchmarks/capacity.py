"""Capacity: how many students one GenLab server holds, and two replicas behind HAProxy, side by side in one run.

Simulated students (benchmarks/locustfile.py: Locust users speaking Streamlit's own websocket protocol, no
browser) open the face sampler and click "New face" every GENLAB_THINK_S seconds (default 5, +-50 %); one in
four also runs a PixelCNN completion, opens the VAE explorer or answers a quiz question. The class grows step
by step (default 1 -> 10 -> 30 -> 60 -> 100 users, the users of a step stay for the next); each step is
measured after every user has opened the page and a settling time, over a fixed window:

  p50 / p95      click -> the new face's image delta received (the server's part, as load.py's "New face
                 (server)"), and with the image fetched ("total")
  errors         failed requests of any kind (clicks, page opens, quiz answers, lost connections)
  server CPU     CPU seconds of the server processes (replicas + HAProxy) per "New face" click
  client CPU     this process's share of the machine's cores: the load generator must stay small
  RSS            resident memory of the server processes

    python benchmarks/capacity.py                      # one server, then two replicas behind HAProxy
    python benchmarks/capacity.py --steps 1,10 --window 20 --setups one     # quick look
    python benchmarks/capacity.py --kill               # a replica killed mid-class (SIGKILL, back after 10 s)

--kill runs users through HAProxy to two replicas, kills the replica that holds more of them after
--kill-after seconds and starts it again 10 s later: failed clicks, how long the affected users took to get
a working page again ("recover"), and errors of users whose replica survived (must be 0).

Run it on an otherwise idle machine (`top` first): the students, the server and HAProxy share its cores.
Needs `pip install locust` and, for the replicas, Debian's `haproxy` (deploy/replicas.sh).
"""
from __future__ import annotations

import locust  # noqa: F401  first: gevent's monkey patching must come before the other imports

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import locustfile  # noqa: E402
from _timing import ROOT, cpu_seconds, memory_mb  # noqa: E402

REPLICAS = ROOT / "deploy" / "replicas.sh"
RUN_DIR = Path(os.environ.get("GENLAB_RUN_DIR", "/tmp/genlab-capacity"))
HAPROXY_URL = "http://127.0.0.1:8501"
SINGLE_PORT = 8521
SETUPS = {"one": "one server (streamlit run app.py)", "two": "two replicas behind HAProxy"}
TARGET_P95_MS = 1000


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ----------------------------------------------------------------------------------------------- servers

def replicas(*args: str) -> str:
    env = {**os.environ, "GENLAB_RUN_DIR": str(RUN_DIR), "PYTHON": sys.executable}
    return subprocess.run(["bash", str(REPLICAS), *args], env=env, check=True, capture_output=True, text=True).stdout


def server_pids() -> dict[str, int]:
    """name -> pid of every process deploy/replicas.sh (or this script) started that still runs."""
    pids = {}
    for f in RUN_DIR.glob("*.pid"):
        try:
            pid = int(f.read_text())
            os.kill(pid, 0)
            pids[f.stem] = pid
        except (OSError, ValueError):
            continue
    return pids


@contextmanager
def one_server():
    """One `streamlit run app.py` on 127.0.0.1, as a lab machine serves a class without a balancer."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    log = open(RUN_DIR / "single.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(SINGLE_PORT),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (RUN_DIR / "single.pid").write_text(str(proc.pid))
    try:
        wait_healthy(f"http://127.0.0.1:{SINGLE_PORT}")
        yield f"http://127.0.0.1:{SINGLE_PORT}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        (RUN_DIR / "single.pid").unlink(missing_ok=True)
        log.close()


@contextmanager
def two_replicas():
    replicas("stop")
    print(replicas("start", "2"), end="", flush=True)
    try:
        wait_healthy(HAPROXY_URL)
        yield HAPROXY_URL
    finally:
        replicas("stop")


def wait_healthy(url: str, timeout_s: float = 180) -> None:
    import requests
    end = time.time() + timeout_s
    while time.time() < end:
        try:
            if requests.get(f"{url}/_stcore/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        gevent.sleep(0.5)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s} s")


def warm_up(url: str) -> None:
    """One tab opens each page the students use (models load, caches fill); not counted."""
    for path in ("/gan_sampler?seed=1", "/pixelcnn_completion?digit=1&n=8&seed=1", "/vae_explorer?seed=1",
                 "/reflect_quiz?seed=1&scheme=cbm"):
        for _ in range(2):  # behind HAProxy: least-connections sends the two opens to both replicas
            tab = locustfile.StreamlitClient(url + path)
            try:
                tab.open()
            finally:
                tab.close()


# ----------------------------------------------------------------------------------------------- measuring

def new_environment(url: str) -> tuple[Environment, object]:
    env = Environment(user_classes=[locustfile.Student, locustfile.BusyStudent], host=url, events=locust.events)
    return env, env.create_local_runner()


def grow_to(runner, users: int, spawn_rate: float) -> None:
    runner.start(users, spawn_rate=spawn_rate)
    end = time.time() + users / spawn_rate + 120
    while runner.user_count < users and time.time() < end:
        gevent.sleep(0.5)


def step_row(env, users: int, window_s: float, settle_s: float) -> dict:
    """Measure the running class over window_s, after settle_s (the last users' page opens)."""
    gevent.sleep(settle_s)
    env.stats.reset_all()
    pids = server_pids()
    cpu0 = {n: cpu_seconds(p) for n, p in pids.items()}
    client0, t0 = own_cpu(), time.perf_counter()
    gevent.sleep(window_s)
    wall = time.perf_counter() - t0
    server_cpu = sum(cpu_seconds(p) - cpu0[n] for n, p in pids.items() if n in cpu0 and p in server_pids().values())
    server, total = env.stats.get("New face (server)", "streamlit"), env.stats.get("New face", "streamlit")
    clicks = server.num_requests
    return {"users": users, "clicks": clicks, "clicks_per_s": round(clicks / wall, 2),
            "p50_ms": server.get_response_time_percentile(0.5) if clicks else None,
            "p95_ms": server.get_response_time_percentile(0.95) if clicks else None,
            "total_p95_ms": total.get_response_time_percentile(0.95) if total.num_requests else None,
            "errors": env.stats.total.num_failures,
            "error_kinds": sorted({f"{e.name}: {str(e.error)[:80]}" for e in env.stats.errors.values()}),
            "server_cpu_ms_per_click": round(1000 * server_cpu / clicks, 1) if clicks else None,
            "server_cores_busy": round(server_cpu / wall, 2),
            "client_cpu_share": round((own_cpu() - client0) / (wall * os.cpu_count()), 3),
            "rss_mb": round(sum(memory_mb(p)["rss"] for p in server_pids().values()), 0),
            "window_s": round(wall, 1)}


def capacity(url: str, steps: list[int], window_s: float, settle_s: float, spawn_rate: float) -> list[dict]:
    env, runner = new_environment(url)
    rows = []
    try:
        for users in steps:
            grow_to(runner, users, spawn_rate)
            rows.append(step_row(env, users, window_s, settle_s))
            print(line(rows[-1]), flush=True)
    finally:
        runner.quit()
    return rows


def kill_run(users: int, kill_after_s: float, down_s: float, after_s: float, spawn_rate: float) -> dict:
    """Users through HAProxy to two replicas; the replica holding more users is SIGKILLed, revived down_s later."""
    locustfile.FAILURES_BY_HOME.clear()
    with two_replicas() as url:
        warm_up(url)
        env, runner = new_environment(url)
        grow_to(runner, users, spawn_rate)
        gevent.sleep(5)
        env.stats.reset_all()
        locustfile.FAILURES_BY_HOME.clear()
        gevent.sleep(kill_after_s)
        homes = Counter(getattr(g.args[0], "home", None) for g in runner.user_greenlets)
        homes.pop(None, None)
        victim = homes.most_common(1)[0][0] if homes else "r1"
        print(replicas("kill", victim[1:]), end="", flush=True)
        killed_at = time.perf_counter()
        gevent.sleep(down_s)
        print(replicas("revive", victim[1:]), end="", flush=True)
        revived_s = time.perf_counter() - killed_at
        gevent.sleep(after_s)
        runner.quit()
        clicks = env.stats.get("New face (server)", "streamlit")
        recover = env.stats.get("recover", "streamlit")
        return {"users": users, "users_per_replica": dict(homes), "killed": victim,
                "revived_after_s": round(revived_s, 1),
                "clicks": clicks.num_requests, "failed_clicks": env.stats.get("New face", "streamlit").num_failures,
                "errors": env.stats.total.num_failures,
                "errors_by_home": dict(locustfile.FAILURES_BY_HOME),
                "survivor_errors": sum(n for home, n in locustfile.FAILURES_BY_HOME.items() if home != victim),
                "recovered_users": recover.num_requests - recover.num_failures,
                "recover_failures": recover.num_failures,
                "recover_p50_ms": recover.get_response_time_percentile(0.5) if recover.num_requests else None,
                "recover_max_ms": recover.max_response_time if recover.num_requests else None,
                "p95_ms": clicks.get_response_time_percentile(0.95) if clicks.num_requests else None}


# ----------------------------------------------------------------------------------------------- report

def line(r: dict) -> str:
    def ms(v):
        return "-" if v is None else f"{v:.0f}"
    return (f"{r['users']:>5} users  {r['clicks_per_s']:>6.2f} clicks/s  p50 {ms(r['p50_ms']):>5} ms  "
            f"p95 {ms(r['p95_ms']):>5} ms  (total p95 {ms(r['total_p95_ms']):>5})  errors {r['errors']:>3}  "
            f"server {ms(r['server_cpu_ms_per_click']):>4} ms CPU/click ({r['server_cores_busy']:.2f} cores)  "
            f"client {100 * r['client_cpu_share']:4.1f} % of the CPU  RSS {r['rss_mb']:.0f} MB")


def holds(rows: list[dict]) -> int:
    """The largest step with p95 <= 1 s and no error (0 when none)."""
    good = [r["users"] for r in rows if r["errors"] == 0 and r["p95_ms"] is not None and r["p95_ms"] <= TARGET_P95_MS]
    return max(good, default=0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", default="1,10,30,60,100", help="users at each step (a growing class)")
    p.add_argument("--window", type=float, default=45, help="seconds measured per step")
    p.add_argument("--settle", type=float, default=10, help="seconds after the last user of a step arrived")
    p.add_argument("--spawn-rate", type=float, default=5, help="users arriving per second")
    p.add_argument("--setups", default="one,two", help="one (a server), two (two replicas behind HAProxy)")
    p.add_argument("--kill", action="store_true", help="the kill run instead of the capacity table")
    p.add_argument("--kill-users", type=int, default=30)
    p.add_argument("--kill-after", type=float, default=30, help="seconds of normal class before the kill")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    think = os.environ.get("GENLAB_THINK_S", "5")
    print(f"cores: {os.cpu_count()}; think time {think} s +-50 %; one user in four also runs PixelCNN, VAE, quiz",
          flush=True)
    if args.kill:
        result = {"kill": kill_run(args.kill_users, args.kill_after, 10, 30, args.spawn_rate)}
        print(json.dumps(result["kill"], indent=1))
    else:
        result, steps = {}, [int(s) for s in args.steps.split(",")]
        for setup in args.setups.split(","):
            print(f"\n== {SETUPS[setup]}", flush=True)
            with (one_server() if setup == "one" else two_replicas()) as url:
                warm_up(url)
                result[setup] = capacity(url, steps, args.window, args.settle, args.spawn_rate)
        print(f"\nSide by side (p95 <= {TARGET_P95_MS} ms and 0 errors):")
        for setup, rows in result.items():
            most = holds(rows)
            per_core = f" ({most / os.cpu_count():.0f} per core)" if most else ""
            print(f"  {SETUPS[setup]}: holds {most} users{per_core}")
            for r in rows:
                print("   ", line(r))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
