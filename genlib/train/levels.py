"""The trainer shared by the models of 8-bit MNIST (integer grey levels 0..255): the flow (genlib/train/flow.py)
and the PixelCNN with the slide's switches (genlib/train/pixelcnnpp.py). A family gives its model's builder,
its config and its training loss in bits/dim; this module does the rest, as the autoregressive trainer does for
binarized images: warm-up + cosine over a wall-time budget, bfloat16 autocast, EMA (--ema 0: none), checkpoints,
--resume, --init, --export, and the export of whichever of the raw and the EMA weights scores better on 2,000
training images, with its bits/dim on all 10,000 test images in the card.
"""
from __future__ import annotations

import argparse
import math
import time

from genlib.train.autoregressive import (LICENCE, fit, optimizer_step, resumed_settings, scheduled_learning_rate,
                                         starting_model)
from genlib.train.common import Run, add_common_arguments, command_string, ema_of, grey_levels

MONITOR_IMAGES = 2000
D = 28 * 28


def add_arguments(p, default_name: str, default_minutes: float, default_lr: float = 1e-3):
    add_common_arguments(p, default_name=default_name, default_steps=500000, default_batch=64)
    p.add_argument("--lr", type=float, default=default_lr, help="peak Adam learning rate (after warm-up)")
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps")
    p.add_argument("--minutes", type=float, default=default_minutes,
                   help="time budget: the cosine ends at this wall time (0: steps only)")
    p.add_argument("--ema", type=float, default=0.999, help="decay of the weight moving average (0: no EMA)")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="convolutions in bfloat16 autocast (the loss, the log-dets and every evaluation stay "
                        "float32; default: on for a new run, a resumed run keeps its own)")
    p.add_argument("--checkpoint-every", type=float, default=300, help="seconds between checkpoints")
    p.add_argument("--init", metavar="NAME", default=None,
                   help="start a new run from an installed model's weights (and shape); optimizer and schedule afresh")
    p.add_argument("--export", action="store_true", help="no training: evaluate the checkpoint, write weights + card")
    p.add_argument("--pilots", nargs="+", metavar="CARD", default=[],
                   help="model cards of pilot runs (this CLI with --out-dir elsewhere) whose command, config, images "
                        "seen and test bits/dim go into the exported card, as the measured reasons for its recipe")


def mean_bits_per_dim(model, x, batch: int = 500, seed: int = 0, k: int = 1) -> float:
    """-log_prob in bits/dim, averaged over x; a model with a dequantized estimate draws it from seed + offset
    (k > 1: its importance-weighted bound over k draws)."""
    import torch

    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            total += -model.log_prob(x[i:i + batch], seed=seed + i, **({"k": k} if k > 1 else {})).sum().item()
    return total / len(x) / (D * math.log(2))


def train(args, *, family: str, build, config: dict, loss, clip: float, published: dict, dataset: str,
          eval_set: str, prepare=None, extend: dict | None = None) -> dict:
    """Train (unless --export) build(config) on 8-bit MNIST and write its weights and card.

    loss(model, x, rng) -> the batch's loss in bits/dim (float32) for grey levels x [B,1,28,28];
    prepare(model, x_train) runs once on a new model (e.g. a data-dependent initialisation); extend: config keys
    that add new parts to a model started with --init."""
    import torch

    run = Run(args, ["lr", "bits_per_dim", "monitor_bpd", "monitor_bpd_ema"])
    ck = run.resume()
    config = resumed_settings(args, ck, config)
    model, initialised_from = starting_model(args, build, config, run.out_dir, extend=extend)
    x_train = grey_levels(args, "mnist", "train", keep=64)
    if prepare and not ck and not initialised_from:
        with torch.no_grad():
            prepare(model.train(), x_train)
    ema = ema_of(model, args.ema)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = torch.Generator().manual_seed(args.seed)
    run.track(model=model, ema=ema, opt=opt, rng=rng)
    initialised_from = counted_gap(ck.get("initialised_from")) if ck else initialised_from
    monitor = x_train[:MONITOR_IMAGES]
    running = {}

    def train_step():
        lr = scheduled_learning_rate(run, opt)
        x = x_train[torch.randint(len(x_train), (args.batch_size,), generator=rng)]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            batch_loss = loss(model, x, rng)
        return {"bits_per_dim": optimizer_step(model, opt, ema, batch_loss, clip=clip, running=running), "lr": lr}

    def monitor_bpd():
        raw, averaged = mean_bits_per_dim(model.eval(), monitor[:500]), mean_bits_per_dim(ema.module, monitor[:500])
        model.train()
        print(f"step {run.step}: train-monitor bits/dim raw {raw:.4f} ema {averaged:.4f}", flush=True)
        return {"monitor_bpd": raw, "monitor_bpd_ema": averaged}

    fit(run, model, train_step, monitor_bpd, initialised_from)
    candidates = {"raw": model.eval(), **({"ema": ema.module.eval()} if args.ema > 0 else {})}
    return export(run, family, candidates, monitor, len(x_train), initialised_from, published, dataset, eval_set)


def counted_gap(start: dict | None) -> dict | None:
    """A resumed or exported run's start, marked when the started-from card (still installed in weights/, the
    same sha256) did not count its own start: checkpoints written before that mark existed lack it."""
    from genlib import zoo
    from genlib.families import uncounted_start

    if not start or start.get("earlier_runs_uncounted"):
        return start
    try:
        installed = zoo.card(start["name"])
    except zoo.WeightsError:
        return start
    if installed.get("sha256") == start.get("sha256") and uncounted_start(installed):
        return {**start, "earlier_runs_uncounted": True}
    return start


def pilot_summary(card_path) -> dict:
    """What a card keeps of one pilot run's card."""
    import json

    card = json.loads(open(card_path, encoding="utf-8").read())
    return {"name": card["name"], "command": card["command"], "config": card["config"],
            "wall_time_s": card["wall_time_s"], "images_seen": card.get("images_seen"),
            "test_bits_per_dim": card["metrics"]["test_bits_per_dim"], "eval_images": card["metrics"]["eval_images"]}


def export(run, family, candidates: dict, monitor, n_train: int, initialised_from, published, dataset,
           eval_set) -> dict:
    """Write whichever candidate has the lower bits/dim on the monitor images, with its test bits/dim."""
    from genlib import zoo

    args = run.args
    scores = {name: mean_bits_per_dim(m, monitor) for name, m in candidates.items()}
    which = min(scores, key=scores.get)
    t0 = time.time()
    test = grey_levels(args, "mnist", "test", keep=64)
    bpd = mean_bits_per_dim(candidates[which], test)
    nll = bpd * D * math.log(2)
    print(f"monitor bits/dim {scores}; exporting {which}; test {bpd:.4f} bits/dim = {nll:.2f} nats "
          f"({len(test)} images, {time.time() - t0:.0f} s)", flush=True)
    k = getattr(args, "eval_k", 1)
    weighted = mean_bits_per_dim(candidates[which], test, k=k) if k > 1 else None
    if weighted is not None:
        print(f"importance-weighted bound, {k} draws per image: test {weighted:.4f} bits/dim", flush=True)
    ema = f"EMA {args.ema}" if args.ema > 0 else "no EMA"
    card = zoo.save(candidates[which], args.name, {
        **run.card_fields(), "family": family, "config": candidates[which].config, "licence": LICENCE,
        "dataset": {"id": "mnist", "description": f"{zoo.DATASETS['mnist']}; {dataset}"},
        "epochs": round(run.step * args.batch_size / n_train, 2), "batch_size": args.batch_size,
        "images_seen": run.step * args.batch_size,
        "train_images_per_s": round(run.step * args.batch_size / max(run.elapsed, 1e-9), 1),
        "schedule": f"{'bfloat16 autocast, ' if args.bf16 else ''}Adam, lr {args.lr} peak, "
                    f"{args.warmup} warm-up steps, cosine to 0 over "
                    f"{'%g min' % args.minutes if args.minutes else '%d steps' % args.steps}; {ema}",
        "exported_weights": which,
        **({"initialised_from": initialised_from} if initialised_from else {}),
        **({"pilots": [pilot_summary(path) for path in args.pilots]} if args.pilots else {}),
        "schedule_completed": round(min(1.0, run.progress(args.steps, args.minutes)), 3),
        "metrics": {"measured_with": command_string(args), "eval_set": eval_set, "eval_images": len(test),
                    "test_nll_nats": round(nll, 2), "test_bits_per_dim": round(bpd, 4),
                    **({"test_bits_per_dim_importance_weighted": {"bits_per_dim": round(weighted, 4), "k": k}}
                       if weighted is not None else {}),
                    "published_test_bits_per_dim": published},
    }, weights_dir=run.out_dir)
    print(f"wrote {card['name']} ({card['parameters']} parameters) to {run.out_dir or zoo.WEIGHTS_DIR}", flush=True)
    return card
