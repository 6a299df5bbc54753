"""Shared training plumbing: checkpoints (resume), CSV loss logs, console progress, the run command."""
from __future__ import annotations

import csv
import shlex
import time
from pathlib import Path

RUNS_DIR = Path(__file__).resolve().parents[2] / "runs"  # checkpoints, logs and sample grids (git-ignored)


def add_common_arguments(p, default_name: str, default_steps: int, default_batch: int = 64):
    p.add_argument("--name", default=default_name, help="model name: weights/<name>.safetensors")
    p.add_argument("--steps", type=int, default=default_steps, help="optimizer steps in all")
    p.add_argument("--batch-size", type=int, default=default_batch)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--resume", action="store_true", help="continue from runs/<name>/checkpoint.pt")
    p.add_argument("--dry-run", action="store_true",
                   help="a couple of tiny steps on a little data, write into --out-dir (for tests and CI)")
    p.add_argument("--out-dir", default=None, help="weights folder (default: weights/; dry runs: runs/dry-run)")
    p.add_argument("--data", default=None, help="data root (default: $GENLAB_DATA or ../shared/data)")


def command_string(args) -> str:
    return shlex.join(args.argv)


def run_dir(name: str, dry_run: bool = False) -> Path:
    d = RUNS_DIR / ("dry-run" if dry_run else name)
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_checkpoint(path: Path, **state):
    """Training state (models, optimizers, step, elapsed time). Private to training: the app never reads it."""
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a crash mid-write never leaves a half checkpoint


def load_checkpoint(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


class CsvLog:
    """Append-only CSV of per-step values; survives --resume."""

    def __init__(self, path: Path, fields: list[str]):
        self.path, self.fields = path, fields
        new = not path.exists()
        self.file = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=fields)
        if new:
            self.writer.writeheader()

    def write(self, **row):
        self.writer.writerow({k: row.get(k) for k in self.fields})
        self.file.flush()


class Progress:
    """One console line every `every` seconds: step, rate, ETA and the given values."""

    def __init__(self, total: int, start_step: int = 0, every: float = 10.0):
        self.total, self.start_step, self.every = total, start_step, every
        self.t0 = self.last = time.time()

    def __call__(self, step: int, **values):
        now = time.time()
        if now - self.last < self.every and step < self.total:
            return
        self.last = now
        rate = (step - self.start_step) / max(now - self.t0, 1e-9)
        eta = (self.total - step) / max(rate, 1e-9)
        vals = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        print(f"step {step}/{self.total} {rate:.2f} it/s eta {eta / 60:.1f} min {vals}", flush=True)
