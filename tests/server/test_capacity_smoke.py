"""benchmarks/capacity.py runs end to end at its smallest (one simulated student on one server, a few seconds):
the capacity figures are a benchmark, but a broken benchmark should fail here, not on the day of a class."""
import json
import os
import subprocess
import sys

from tests.appserver import ROOT


def test_one_student_on_one_server(tmp_path):
    out = tmp_path / "capacity.json"
    run = subprocess.run([sys.executable, "benchmarks/capacity.py", "--steps", "1", "--window", "8", "--settle", "1",
                          "--setups", "one", "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "GENLAB_THINK_S": "1", "GENLAB_RUN_DIR": str(tmp_path / "run")})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    [row] = json.loads(out.read_text())["one"]
    assert row["users"] == 1 and row["clicks"] >= 2 and row["errors"] == 0, row
    assert 0 < row["p50_ms"] <= row["p95_ms"] and row["server_cpu_ms_per_click"] > 0 and row["rss_mb"] > 100
    assert "holds 1 users" in run.stdout
