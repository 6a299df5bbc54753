"""Shared by the benchmark scripts: the project root on sys.path, timers and summaries, and what a
server process uses (CPU seconds, resident memory) read from /proc (Linux)."""
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def model_benchmark_parser(description: str, repeats: int, repeats_help: str):
    """The options every model benchmark shares: threads, timed training steps, batch, sampling repeats, --record.
    Returns the argparse parser, for a script to add its own."""
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=1, help="torch threads (the app uses one per session)")
    p.add_argument("--steps", type=int, default=8, help="timed training steps per model (after 2 warm-up)")
    p.add_argument("--batch", type=int, default=64, help="training batch (the trainers' default)")
    p.add_argument("--repeats", type=int, default=repeats, help=repeats_help)
    p.add_argument("--record", action="store_true", help="write the figures into each installed model's card")
    return p


def median_ms(fn, repeats: int, warmup: int = 2) -> float:
    """Median wall time of fn() in milliseconds over `repeats` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def timed(fn, repeats: int):
    """(median seconds, the last result) of `repeats` calls of fn()."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def images_per_second(step, batch: int, steps: int, warmup: int = 2) -> float:
    """Median images/s of `steps` calls of step() (one training step on `batch` images) after `warmup`."""
    seconds, _ = timed(step, warmup)
    seconds, _ = timed(step, steps)
    return batch / seconds


def percentile(values, q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method: a value that was actually measured."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(values) -> str:
    """'median X, p95 Y (n)' of values in ms, or 'no data'."""
    if not values:
        return "no data"
    return f"median {statistics.median(values):7.0f} ms, p95 {percentile(values, 95):7.0f} ms (n={len(values)})"


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_of(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (all its threads)."""
    return _cpu_of(_stat_fields(pid))


def cpu_by_role(server_pid: int) -> dict:
    """CPU seconds used so far by the app server, by every chromium process (the students' browsers) and
    by this benchmark itself (this Python process and the Playwright driver it started): who used the
    cores while the browsers and the server share them."""
    totals = {"server": 0.0, "browsers": 0.0, "benchmark": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pid, comm = int(entry.name), (entry / "comm").read_text().strip()
            fields = _stat_fields(pid)
            ppid = int(fields[1])
            if pid == server_pid:
                role = "server"
            elif "chrom" in comm or "headless" in comm:
                role = "browsers"
            elif pid == os.getpid() or (ppid == os.getpid() and comm == "node"):
                role = "benchmark"
            else:
                continue
            totals[role] += _cpu_of(fields)
        except (OSError, ValueError, IndexError):  # a process that ended meanwhile
            continue
    return totals


def pin_threads(pid: int, cpus: set[int]) -> None:
    """Keep every thread of a process (and the threads it starts later) on these cores."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, OSError):  # a thread that ended meanwhile
            continue


def server_on_its_own_core(cpu: int | None) -> None:
    """Keep this process, and the browsers and clients it starts from now on, off `cpu` (pin_threads puts the
    server there): on a two-core machine chromium would otherwise draw on the core the server answers from."""
    if cpu is not None:
        rest = os.sched_getaffinity(0) - {cpu}
        if not rest:
            raise SystemExit(f"--server-cpu {cpu} leaves no other core for the browsers and clients")
        os.sched_setaffinity(0, rest)


def scratch_app(folder: Path, source: str) -> Path:
    """A one-file Streamlit app (app.py = source) with GenLab's config in folder: the floors the benchmarks
    compare GenLab against."""
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    (folder / "app.py").write_text(source)
    return folder


def memory_mb(pid: int) -> dict:
    """Resident memory now (rss), the peak so far (hwm, kept by the kernel) in MB, and the thread count."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": int(status["VmRSS"].split()[0]) / 1024, "hwm": int(status["VmHWM"].split()[0]) / 1024,
            "threads": int(status["Threads"])}
