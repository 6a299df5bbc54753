"""The skeleton every trainer shares: options, the run folder, resume, checkpoints, the CSV log, the EMA, the
training loop with its time limit, and "the real data, or synthetic data on a dry run".

A trainer keeps only what is its model's own: building it, one optimizer step, and its evaluation.

    run = Run(args, log_fields=["loss"])      # threads, seed, run folder (and a temp folder on a dry run)
    ck = run.resume()                         # on --resume / --export the checkpoint's dict (its config...)
    run.track(model=model, opt=opt, rng=g)    # in every checkpoint; restored from it on --resume / --export
    run.fit(step, steps=args.steps)           # step() -> {"loss": ...}
    zoo.save(model, args.name, {**run.card_fields(), ...}, run.out_dir)

Where things go: weights into --out-dir (default weights/), everything else of a run into
<out-dir>/runs/<name>/ (default runs/<name>/): checkpoint.pt, log.csv, sample grids. A dry run without
--out-dir writes into a new temporary folder, never into the repository.
"""
from __future__ import annotations

import csv
import shlex
import tempfile
import time
from pathlib import Path

RUNS_DIR = Path(__file__).resolve().parents[2] / "runs"  # checkpoints, logs and sample grids (git-ignored)
DRY_RUN_STEPS, DRY_RUN_BATCH = 2, 8
DRY_RUN_NOTE = (f"{DRY_RUN_STEPS} steps on a tiny model, on the data's first items (synthetic data where it is "
                "missing): a test of the code, not a model")


def add_common_arguments(p, default_name: str | None, default_steps: int | None, default_batch: int = 64):
    p.add_argument("--name", default=default_name, help="model name: weights/<name>.safetensors")
    p.add_argument("--steps", type=int, default=default_steps, help="optimizer steps in all")
    p.add_argument("--batch-size", type=int, default=default_batch)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--resume", action="store_true", help="continue from runs/<name>/checkpoint.pt")
    p.add_argument("--dry-run", action="store_true",
                   help=f"{DRY_RUN_STEPS} steps of {DRY_RUN_BATCH} on a tiny model and a little data (synthetic "
                        "where the data is missing), written into --out-dir or a temporary folder (tests, CI)")
    p.add_argument("--out-dir", default=None,
                   help="weights folder (default: weights/); the run's checkpoint and log go to OUT_DIR/runs/<name>")
    p.add_argument("--data", default=None, help="data root (default: $GENLAB_DATA or ../shared/data)")


def command_string(args) -> str:
    return shlex.join(args.argv)


def save_checkpoint(path: Path, **state):
    """Training state (models, optimizers, step, elapsed time). Private to training: the app never reads it."""
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a crash mid-write never leaves a half checkpoint


def load_checkpoint(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


# Checkpoints written before Run named a few shared entries per trainer.
_LEGACY_KEYS = {"G_ema": "ema", "data_rng": "rng", "gen": "rng"}


class Run:
    """One training run: its folder, first command, step count and training time, checkpoint and log."""

    def __init__(self, args, log_fields: list[str]):
        import torch

        self.args = args
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        if args.dry_run:
            args.steps, args.batch_size = DRY_RUN_STEPS, DRY_RUN_BATCH
            if not args.out_dir:
                args.out_dir = tempfile.mkdtemp(prefix="genlab-dry-run-")
                print(f"dry run: writing into {args.out_dir}", flush=True)
        self.out_dir = Path(args.out_dir) if args.out_dir else None  # None: zoo.WEIGHTS_DIR
        self.dir = (self.out_dir / "runs" if self.out_dir else RUNS_DIR) / args.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.dir / "checkpoint.pt"
        self.log_fields = ["step", "elapsed_s", *log_fields]
        self.command = command_string(args)  # the command that started the run
        self.resumed_with: list[str] = []      # each later command that continued it
        self.step, self.elapsed = 0, 0.0        # elapsed: seconds of training, over every resume
        self.tracked: dict = {}                 # name -> object whose state each checkpoint holds
        self._checkpoint = ...                  # what resume() read; ... until it has been called

    def resume(self) -> dict | None:
        """On --resume or --export: the latest checkpoint (step, time, commands and seed restored here, the
        tracked objects by track()); the trainer reads its own entries (config, ...) from the dict. None for a
        new run, or a --resume with no checkpoint yet. Reads the file once, however often it is called."""
        if self._checkpoint is ...:
            self._checkpoint = self._read_checkpoint()
        return self._checkpoint

    def _read_checkpoint(self) -> dict | None:
        exporting = getattr(self.args, "export", False)
        if not (self.args.resume or exporting):
            return None
        if not self.checkpoint_path.exists():
            if exporting:
                raise SystemExit(f"no checkpoint to export at {self.checkpoint_path}")
            print(f"no checkpoint at {self.checkpoint_path}: starting a new run", flush=True)
            return None
        ck = self.latest()
        self.step, self.elapsed, self.command = ck["step"], ck["elapsed"], ck.get("command", self.command)
        self.resumed_with = ck.get("resumed_with", [])
        if self.args.resume:
            self.resumed_with = [*self.resumed_with, f"at step {self.step}: {command_string(self.args)}"]
        self.args.seed = ck.get("seed", self.args.seed)
        print(f"resumed {self.args.name} at step {self.step} ({self.elapsed / 60:.1f} min trained)", flush=True)
        return ck

    def latest(self) -> dict:
        """The run's checkpoint as saved last (entries of older checkpoints under today's names)."""
        return {_LEGACY_KEYS.get(k, k): v for k, v in load_checkpoint(self.checkpoint_path).items()}

    def track(self, **objects):
        """Keep the state of these objects (modules, optimizers, schedulers, ema_of(...), torch.Generator) in
        every checkpoint under these names; on --resume / --export restore them from the checkpoint now."""
        ck = self.resume()
        for name, obj in objects.items():
            if ck is not None:
                _restore(obj, ck[name], self.step)
        self.tracked.update(objects)

    def save(self, **state):
        save_checkpoint(self.checkpoint_path, step=self.step, elapsed=self.elapsed, command=self.command,
                        resumed_with=self.resumed_with, seed=self.args.seed,
                        **{name: _state(obj) for name, obj in self.tracked.items()}, **state)

    def progress(self, steps: int, minutes: float = 0.0) -> float:
        """How much of the run is done, 0..1: of its steps, or of its time budget when that comes first."""
        done = self.step / max(steps, 1)
        return max(done, self.elapsed / (60 * minutes)) if minutes and minutes > 0 else done

    def fit(self, train_step, state=dict, *, steps: int, minutes: float = 0.0, checkpoint_every: float = 300.0,
            log_every: int = 10, at_checkpoint=None):
        """The training loop: train_step() (one optimizer step; returns the values to log) until `steps` steps
        or `minutes` of training time, whichever comes first. A log row every `log_every` steps; every
        `checkpoint_every` seconds and at the end a checkpoint of the tracked objects and of state() (what else
        the run needs), after at_checkpoint() (sample grids, monitor values: what it returns is logged too).
        Time spent in at_checkpoint counts as training time."""
        log = CsvLog(self.dir / "log.csv", self.log_fields)
        show = Progress(steps, start_step=self.step, every=30.0)
        t_last = t_checkpoint = time.time()
        while self.progress(steps, minutes) < 1:
            values = train_step()
            self.step += 1
            now = time.time()
            self.elapsed, t_last = self.elapsed + now - t_last, now
            show(self.step, **values, min=self.elapsed / 60)
            finished = self.progress(steps, minutes) >= 1
            if self.step % log_every == 0 or finished:
                log.write(step=self.step, elapsed_s=round(self.elapsed, 1), **values)
            if now - t_checkpoint > checkpoint_every or finished:
                extra = at_checkpoint() if at_checkpoint is not None else None
                if extra:
                    log.write(step=self.step, elapsed_s=round(self.elapsed, 1), **extra)
                self.save(**state())
                t_checkpoint = time.time()
        if minutes and self.elapsed >= 60 * minutes:
            print(f"time limit of {minutes:g} min reached at step {self.step}", flush=True)
        self.save(**state())  # also when a resume had nothing left to train: the checkpoint records that command

    def card_fields(self) -> dict:
        """The model card entries every trainer writes the same way."""
        return {"command": self.command, **({"resumed_with": self.resumed_with} if self.resumed_with else {}),
                "seed": self.args.seed, "steps": self.step, "wall_time_s": round(self.elapsed, 1),
                "threads": self.args.threads, **({"dry_run": DRY_RUN_NOTE} if self.args.dry_run else {})}


def real_or_synthetic(args, load, synthetic, keep: int = 64):
    """load() the real data; a dry run keeps its first `keep` items, or calls synthetic() where the data is
    missing (so tests and CI need no dataset). Items: an array / tensor, or a dict of them (cut alike)."""
    from genlib.data import DataMissingError

    try:
        data = load()
    except DataMissingError:
        if not args.dry_run:
            raise
        return synthetic()
    if not args.dry_run:
        return data
    return {k: v[:keep] for k, v in data.items()} if isinstance(data, dict) else data[:keep]


def grey_levels(args, dataset: str, split: str, keep: int):
    """The 8-bit images of a split as a float tensor [N,1,28,28] of grey levels 0..255; a dry run keeps the first
    `keep` (the shipped demo images where the data is missing)."""
    import torch

    from genlib import data

    x = real_or_synthetic(args, lambda: data.load_npz(dataset, args.data)[f"x_{split}"],
                          lambda: data.demo_images(dataset)[0][:keep], keep=keep)
    return torch.as_tensor(x).float()[:, None]


def ema_of(model, decay: float):
    """torch's AveragedModel holding the exponential moving average of model's weights (ema.module is the
    averaged model; call ema.update_parameters(model) after each step). The decay ramps up as (1 + n) / (10 + n)
    towards `decay`, so the first updates do not drag the random initialisation along for thousands of steps.
    Buffers (BatchNorm statistics) follow the model; they are not averaged."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    def ramped(averaged, current, n_averaged):
        n = int(n_averaged)
        get_ema_multi_avg_fn(min(decay, (1 + n) / (10 + n)))(averaged, current, n_averaged)

    return AveragedModel(model, multi_avg_fn=ramped).requires_grad_(False)


def _state(obj):
    return obj.get_state() if hasattr(obj, "get_state") else obj.state_dict()  # a torch.Generator, or the rest


def _restore(obj, state, step: int):
    """Load a tracked object's state. An ema_of(...) saved before Run held the averaged model's plain state
    dict: it counts as `step` updates."""
    if hasattr(obj, "set_state"):
        obj.set_state(state)
    elif hasattr(obj, "n_averaged") and "n_averaged" not in state:
        obj.module.load_state_dict(state)
        obj.n_averaged.fill_(step)
    else:
        obj.load_state_dict(state)


def ema_weights(state: dict) -> dict:
    """The averaged model's own state dict from a checkpoint's `ema` entry (AveragedModel's, or the plain one
    of checkpoints written before Run)."""
    if "n_averaged" not in state:
        return state
    return {k.removeprefix("module."): v for k, v in state.items() if k != "n_averaged"}


class CsvLog:
    """Append-only CSV of per-step values; survives --resume. Values not given in a row stay empty."""

    def __init__(self, path: Path, fields: list[str]):
        self.path, self.fields = path, fields
        new = not path.exists()
        self.file = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=fields, extrasaction="ignore")
        if new:
            self.writer.writeheader()

    def write(self, **row):
        self.writer.writerow({k: _rounded(row.get(k)) for k in self.fields})
        self.file.flush()


def _rounded(value):
    return float(f"{value:.5g}") if isinstance(value, float) else value


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
