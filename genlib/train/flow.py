"""Train the reversible flow on 8-bit MNIST -> weights/flow-mnist8 (python -m genlib.train flow).

    python -m genlib.train flow --threads 1 --minutes 112          # the shipped run (its card has the command)
    python -m genlib.train flow --threads 1 --resume                # continue runs/flow-mnist8
    python -m genlib.train flow --threads 1 --init flow-mnist8 --minutes 60   # continue on a new machine
    python -m genlib.train flow --export                            # evaluate the checkpoint, write weights + card

Training maximises the dequantized log-likelihood: every time an image is used it gets a fresh uniform noise
u ~ U[0,1)^784 (v = x + u), and the loss is -log p(v) in bits/dim. The schedule is the autoregressive
trainer's (warm-up, then a cosine to 0 over the wall-time budget), the coupling networks run in bfloat16
autocast (--no-bf16: float32; the invertible layers, log-dets and every evaluation stay float32), and the EMA
or the raw weights, whichever scores better on 2,000 training images, is exported. The test figure is the
bound on all 10,000 MNIST test images with one u per image (seed 0).
"""
from __future__ import annotations

import argparse
import math
import time

from genlib.train.autoregressive import (LICENCE, fit, optimizer_step, resumed_settings, scheduled_learning_rate,
                                         starting_model)
from genlib.train.common import Run, add_common_arguments, command_string, ema_of, grey_levels

PUBLISHED_BITS_PER_DIM = {"RealNVP (Dinh et al. 2017)": 1.06, "Glow (Kingma & Dhariwal 2018)": 1.05,
                          "FFJORD (Grathwohl et al. 2019)": 0.99}
DATASET = "8-bit grey levels 0..255, uniform dequantization (a fresh u ~ U[0,1) per pixel each time an image is used)"
DRY_RUN_CONFIG = {"steps": 1, "hidden": 8}
MONITOR_IMAGES = 2000


def add_arguments(p):
    add_common_arguments(p, default_name="flow-mnist8", default_steps=500000, default_batch=64)
    p.add_argument("--flow-steps", type=int, default=None, help="flow steps per scale (default: the shipped config)")
    p.add_argument("--hidden", type=int, default=None, help="channels of each coupling network")
    p.add_argument("--logit-alpha", type=float, default=None,
                   help="logit transform of the pixels with this alpha (0: none, pixels centred instead)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak Adam learning rate (after warm-up)")
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps")
    p.add_argument("--minutes", type=float, default=112, help="time budget: the cosine ends at this wall time")
    p.add_argument("--ema", type=float, default=0.999, help="decay of the weight moving average")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="coupling networks in bfloat16 autocast (default: on for a new run; a resumed run keeps its own)")
    p.add_argument("--checkpoint-every", type=float, default=300, help="seconds between checkpoints")
    p.add_argument("--init", metavar="NAME", default=None,
                   help="start a new run from an installed model's weights (and shape); optimizer and schedule afresh")
    p.add_argument("--export", action="store_true", help="no training: evaluate the checkpoint, write weights + card")
    p.add_argument("--pilots", nargs="+", metavar="CARD", default=[],
                   help="model cards of pilot runs (this CLI with --out-dir elsewhere) whose command, config, images "
                        "seen and test bits/dim go into the exported card, as the measured reasons for its recipe")


def model_config(args) -> dict:
    from genlib import flow

    given = {"steps": args.flow_steps, "hidden": args.hidden, "logit_alpha": args.logit_alpha}
    config = {**flow.DEFAULT_CONFIG, **{k: v for k, v in given.items() if v is not None}}
    return {**config, **DRY_RUN_CONFIG} if args.dry_run else config


def mean_bits_per_dim(model, x, batch: int = 500, seed: int = 0) -> float:
    """The dequantization bound in bits/dim, averaged over x (one u per image, from `seed` per batch)."""
    import torch

    from genlib.flow import D

    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            total += -model.log_prob(x[i:i + batch], seed=seed + i).sum().item()
    return total / len(x) / (D * math.log(2))


def main(args):
    import torch

    from genlib import flow

    run = Run(args, ["lr", "bits_per_dim", "monitor_bpd", "monitor_bpd_ema"])
    ck = run.resume()
    config = resumed_settings(args, ck, model_config(args))
    model, initialised_from = starting_model(args, flow.build, config, run.out_dir)
    x_train = grey_levels(args, "mnist", "train", keep=64)
    if not ck and not initialised_from:
        with torch.no_grad():  # actnorm's data-dependent initialisation, on a larger batch than one step's
            model.train().forward_continuous(x_train[:512] + torch.rand(x_train[:512].shape))
    ema = ema_of(model, args.ema)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = torch.Generator().manual_seed(args.seed)
    run.track(model=model, ema=ema, opt=opt, rng=rng)
    initialised_from = ck.get("initialised_from") if ck else initialised_from
    monitor = x_train[:MONITOR_IMAGES]
    running = {}
    nats_to_bpd = 1 / (flow.D * math.log(2))

    def train_step():
        lr = scheduled_learning_rate(run, opt)
        x = x_train[torch.randint(len(x_train), (args.batch_size,), generator=rng)]
        v = x + torch.rand(x.shape, generator=rng)                   # [B,1,28,28] dequantized
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = -model.log_density(v).mean() * nats_to_bpd         # bits/dim, float32
        # flows spike now and then: a tighter clip than the autoregressive models'
        return {"bits_per_dim": optimizer_step(model, opt, ema, loss, clip=50.0, running=running), "lr": lr}

    def monitor_bpd():
        raw, averaged = mean_bits_per_dim(model.eval(), monitor[:500]), mean_bits_per_dim(ema.module, monitor[:500])
        model.train()
        print(f"step {run.step}: train-monitor bits/dim raw {raw:.4f} ema {averaged:.4f}", flush=True)
        return {"monitor_bpd": raw, "monitor_bpd_ema": averaged}

    fit(run, model, train_step, monitor_bpd, initialised_from)
    return export(run, {"raw": model.eval(), "ema": ema.module.eval()}, monitor, len(x_train), initialised_from)


def pilot_summary(card_path) -> dict:
    """What the flow card keeps of one pilot run's card."""
    import json

    card = json.loads(open(card_path, encoding="utf-8").read())
    return {"name": card["name"], "command": card["command"], "config": card["config"],
            "wall_time_s": card["wall_time_s"], "images_seen": card.get("images_seen"),
            "test_bits_per_dim": card["metrics"]["test_bits_per_dim"], "eval_images": card["metrics"]["eval_images"]}


def export(run, candidates: dict, monitor, n_train: int, initialised_from) -> dict:
    """Write whichever candidate has the lower bits/dim on the monitor images, with its test bits/dim."""
    from genlib import zoo

    args = run.args
    scores = {name: mean_bits_per_dim(m, monitor) for name, m in candidates.items()}
    which = min(scores, key=scores.get)
    t0 = time.time()
    test = grey_levels(args, "mnist", "test", keep=64)
    bpd = mean_bits_per_dim(candidates[which], test)
    nll = bpd * 784 * math.log(2)
    print(f"monitor bits/dim {scores}; exporting {which}; test {bpd:.4f} bits/dim = {nll:.2f} nats "
          f"({len(test)} images, {time.time() - t0:.0f} s)", flush=True)
    card = zoo.save(candidates[which], args.name, {
        **run.card_fields(), "family": "flow", "config": candidates[which].config, "licence": LICENCE,
        "dataset": {"id": "mnist", "description": f"{zoo.DATASETS['mnist']}; {DATASET}"},
        "epochs": round(run.step * args.batch_size / n_train, 2), "batch_size": args.batch_size,
        "images_seen": run.step * args.batch_size,
        "schedule": f"{'bfloat16 autocast (coupling nets), ' if args.bf16 else ''}Adam, lr {args.lr} peak, "
                    f"{args.warmup} warm-up steps, cosine to 0 over "
                    f"{'%g min' % args.minutes if args.minutes else '%d steps' % args.steps}; EMA {args.ema}",
        "exported_weights": which,
        **({"initialised_from": initialised_from} if initialised_from else {}),
        **({"pilots": [pilot_summary(path) for path in args.pilots]} if args.pilots else {}),
        "schedule_completed": round(min(1.0, run.progress(args.steps, args.minutes)), 3),
        "metrics": {"measured_with": command_string(args),
                    "eval_set": "MNIST test set, 8-bit; dequantization bound, one uniform u per image (seed 0 + batch offset)",
                    "eval_images": len(test), "test_nll_nats": round(nll, 2), "test_bits_per_dim": round(bpd, 4),
                    "published_test_bits_per_dim": PUBLISHED_BITS_PER_DIM},
    }, weights_dir=run.out_dir)
    print(f"wrote {card['name']} ({card['parameters']} parameters) to {run.out_dir or zoo.WEIGHTS_DIR}", flush=True)
    return card
