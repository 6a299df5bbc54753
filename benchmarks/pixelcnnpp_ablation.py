"""The lecture's slide "Improving PixelCNN performance" as an ablation on 8-bit MNIST: each row switches one more
item on (genlib.pixelcnnpp.ABLATION), every row trained by the training CLI for the same wall time on one thread,
one row after another (or --cores N at a time, each on a core of its own), then scored on all 10,000 test images.

    python benchmarks/pixelcnnpp_ablation.py --train [--minutes 15] [--rows N] [--cores 2]   # train, then the table
    python benchmarks/pixelcnnpp_ablation.py                           # the table from the rows' cards
    python benchmarks/pixelcnnpp_ablation.py --record                  # ... and copy it into pixelcnnpp-mnist8's card

The rows' weights and cards go to runs/pixelcnnpp-ablation/ (not shipped); the table (bits/dim, change against
the row before, training img/s and its ratio to the baseline, parameters, images seen, the command of each row)
is written to benchmarks/results/pixelcnnpp_ablation.json and .md, which are committed. Run it with nothing else
busy on the machine: the img/s column is a timing.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys

import _timing  # noqa: F401  (puts the project root on sys.path)
from _timing import images_per_second

import torch  # noqa: E402

from genlib import pixelcnnpp, zoo  # noqa: E402

ROOT = zoo.WEIGHTS_DIR.parent
ROWS_DIR = ROOT / "runs" / "pixelcnnpp-ablation"
RESULTS = ROOT / "benchmarks" / "results" / "pixelcnnpp_ablation"
CARD_KEY = "ablation"  # the field of pixelcnnpp-mnist8's card that --record writes


def row_command(i: int, config: dict, minutes: float, seed: int = 0) -> list[str]:
    flags = ["--channels", str(config["channels"]), "--layers", str(config["layers"]), "--head", config["head"],
             "--mixtures", str(config["mixtures"]), "--block", config["block"],
             "--shortcuts" if config["shortcuts"] else "--no-shortcuts",
             "--multiscale" if config["multiscale"] else "--no-multiscale", "--dropout", str(config["dropout"]),
             "--ema", "0.999" if i >= pixelcnnpp.EMA_FROM else "0"]
    name, again = (f"pixelcnnpp-ablation-{i}", []) if seed == 0 else (f"pixelcnnpp-ablation-{i}-seed{seed}",
                                                                       ["--seed", str(seed)])
    return ["python", "-m", "genlib.train", "pixelcnnpp", "--threads", "1", "--minutes", f"{minutes:g}",
            "--name", name, "--out-dir", str(ROWS_DIR.relative_to(ROOT)), *flags, *again]


def rounds(rows: list[int], cores: int) -> list[list[tuple[int, int]]]:
    """(row, seed) per core, round after round. A short last round is filled with second runs (seed 1) of the
    rows before it, so that every row trains beside as many others as the rest; they measure the noise."""
    if not rows:
        return []
    out = [[(i, 0) for i in rows[k:k + cores]] for k in range(0, len(rows), cores)]
    repeats = [i for i in reversed(rows) if i not in {r for r, _ in out[-1]}]
    out[-1] += [(i, 1) for i in repeats[:cores - len(out[-1])]]
    return out


def train(rows: list[int], minutes: float, cores: int) -> None:
    """Train the rows `cores` at a time, each pinned to a core of its own, one thread each."""
    free = sorted(os.sched_getaffinity(0))
    if cores > len(free):
        raise SystemExit(f"--cores {cores}: this process may use {len(free)} core(s)")
    configs = pixelcnnpp.ablation_configs()
    for k, todo in enumerate(rounds(rows, cores), 1):
        running = []
        for core, (i, seed) in zip(free, todo):
            command = row_command(i, configs[i][1], minutes, seed)
            print(f"round {k}, core {core}: row {i} ({configs[i][0]}), seed {seed}\n  {shlex.join(command)}",
                  flush=True)
            running.append(subprocess.Popen(["taskset", "-c", str(core), sys.executable, *command[1:]], cwd=ROOT))
        if any(p.wait() for p in running):
            raise SystemExit(f"round {k}: a row's training failed")


def second_runs() -> list[str]:
    """One line per row trained a second time (another seed): the two runs' bits/dim and their difference."""
    lines = []
    for path in sorted(ROWS_DIR.glob("pixelcnnpp-ablation-*-seed*.json")):
        first = ROWS_DIR / (path.name.split("-seed")[0] + ".json")
        if first.exists():
            a, b = (json.loads(f.read_text(encoding="utf-8"))["metrics"]["test_bits_per_dim"] for f in (first, path))
            lines.append(f"{path.stem}: {b:.4f} bits/dim, {first.stem}: {a:.4f}; difference {b - a:+.4f}")
    return lines


def training_rate(model, steps: int, batch: int = 64) -> float:
    """Median img/s of training steps as the trainer takes them (bf16 autocast, exact loss, Adam) on a copy."""
    import copy

    from genlib.data import demo_images
    from genlib.train.pixelcnnpp import exact_loss

    net = copy.deepcopy(model).train().requires_grad_(True)
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    x = torch.from_numpy(demo_images("mnist")[0][:batch]).float()[:, None]

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = exact_loss(net, x, None)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return images_per_second(step, batch, steps)


def table(timing_steps: int) -> list[dict]:
    """One dict per ablation row: from the row's card where runs/pixelcnnpp-ablation/ has it (with the exact
    causality check, genlib.pixelcnnpp.causality_error, run on its trained weights and, with timing_steps > 0, its
    training speed timed here on an idle machine, the speed during its run kept beside it), else as the committed
    table holds it (rows trained in an earlier session, on another machine); rows never trained are left out."""
    saved = RESULTS.with_suffix(".json")
    known = {r["row"]: r for r in json.loads(saved.read_text(encoding="utf-8"))} if saved.exists() else {}
    for i, (label, config) in enumerate(pixelcnnpp.ablation_configs()):
        path = ROWS_DIR / f"pixelcnnpp-ablation-{i}.json"
        if not path.exists():
            continue
        card = json.loads(path.read_text(encoding="utf-8"))
        model = zoo.load(path.stem, weights_dir=ROWS_DIR).eval()
        during = card["train_images_per_s"]
        known[i] = {"row": i, "label": label, "config": card["config"], "ema": card["schedule"].split("; ")[-1],
                    "test_bits_per_dim": card["metrics"]["test_bits_per_dim"],
                    "eval_images": card["metrics"]["eval_images"],
                    "train_images_per_s": round(training_rate(model, timing_steps), 1) if timing_steps else during,
                    "images_per_s_during_run": during, "causality_error": pixelcnnpp.causality_error(model),
                    "parameters": card["parameters"], "images_seen": card["images_seen"],
                    "wall_time_s": card["wall_time_s"], "command": card["command"]}
    rows = [known[i] for i in sorted(known)]
    for k, row in enumerate(rows):  # changes against the row before, speeds against the baseline
        before = rows[k - 1]["test_bits_per_dim"] if k else None
        row["change_bits_per_dim"] = None if before is None else round(row["test_bits_per_dim"] - before, 4)
        row["speed_vs_baseline"] = round(row["train_images_per_s"] / rows[0]["train_images_per_s"], 2)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| row | test bits/dim | change | train img/s | speed vs baseline | img/s during its run | parameters | "
             "images seen | causality error |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        change = "" if r["change_bits_per_dim"] is None else f"{r['change_bits_per_dim']:+.4f}"
        lines.append(f"| {r['label']} | {r['test_bits_per_dim']:.4f} | {change} | {r['train_images_per_s']:.1f} | "
                     f"x{r['speed_vs_baseline']:.2f} | {r['images_per_s_during_run']:.1f} | {r['parameters']:,} | "
                     f"{r['images_seen']:,} | {r['causality_error']:.1e} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train", action="store_true", help="train every row first (skips rows whose card exists)")
    p.add_argument("--minutes", type=float, default=15, help="wall time of each row's training")
    p.add_argument("--rows", type=int, default=len(pixelcnnpp.ABLATION), help="train the first ROWS rows only")
    p.add_argument("--cores", type=int, default=1,
                   help="rows trained at once, one per core (a short last round gets second runs of earlier rows)")
    p.add_argument("--record", action="store_true", help="copy the table into weights/pixelcnnpp-mnist8.json")
    p.add_argument("--timing-steps", type=int, default=5,
                   help="time this many training steps per row here (0: use the speed of each row's own run)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.train:
        train([i for i in range(args.rows) if not (ROWS_DIR / f"pixelcnnpp-ablation-{i}.json").exists()],
              args.minutes, args.cores)
    rows = table(args.timing_steps)
    RESULTS.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    RESULTS.with_suffix(".md").write_text(markdown(rows), encoding="utf-8")
    print(markdown(rows))
    print("\n".join(second_runs()))
    if args.record:
        zoo.update_card("pixelcnnpp-mnist8", **{CARD_KEY: rows})
        print("recorded in weights/pixelcnnpp-mnist8.json")


if __name__ == "__main__":
    main()
