"""The trainer shared by the autoregressive models on binarized MNIST: the PixelCNN (genlib/train/pixelcnn.py)
and the PixelRNNs (genlib/train/pixelrnn.py). Any model with logits = model(x) and log_prob(x) on binary
[n,1,28,28] images; the family's module says how to build it.

Dynamic binarization (a fresh Bernoulli draw of x/255 every time an image is used); evaluation on the
standard test set (ARCHITECTURE.md: the 10,000 test images binarized once with seed 0).

The schedule is made for a shared 2-core CPU: the learning rate warms up, then follows a cosine to ~0
over the run, where the run's progress is max(step / --steps, elapsed / --minutes). With a time budget the
run therefore always ends annealed, however fast the machine happened to be; the steps it reached are
written to the card (rerun with `--steps N --minutes 0` for a step-for-step reproduction).
The convolutions run in bfloat16 autocast by default (--no-bf16: float32); the weights, the optimizer,
the loss and every evaluation stay float32, so the exported model is an ordinary float32 model.
An exponential moving average (EMA) of the weights is kept too; whichever of EMA and raw weights has
the lower NLL on 2,000 (fixed-binarized) training images is exported.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from genlib.families import images_seen, uncounted_start, wall_time_s
from genlib.train.common import Run, add_common_arguments, command_string, ema_of, real_or_synthetic

DATASET = ("binarized: dynamic Bernoulli(x/255) for training; test set binarized once with "
           "torch.Generator().manual_seed(0)")
LICENCE = "MNIST: no licence stated (NIST SD-1/SD-3, US Government works); commonly listed as CC BY-SA 3.0. " \
          "Attribute LeCun, Cortes and Burges."
MONITOR_IMAGES = 2000  # training images, binarized once: picks EMA or raw weights for export


def add_arguments(p, default_name):
    """The options of every autoregressive trainer: schedule, precision, checkpoints, --init, --export."""
    # Runs are planned by wall time (--minutes) on this CPU; the step default is only a cap.
    add_common_arguments(p, default_name=default_name, default_steps=200000, default_batch=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak Adam learning rate (after warm-up)")
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps")
    p.add_argument("--minutes", type=float, default=145, help="time budget: the cosine ends at this wall time "
                                                               "(0: steps only)")
    p.add_argument("--ema", type=float, default=0.999, help="decay of the weight moving average")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="train the convolutions in bfloat16 autocast (weights, loss and evaluation stay float32); "
                        "3.1x the fp32 speed on this project's AVX512-BF16 CPU, slower on a CPU without bf16 units. "
                        "Default: on for a new run; a resumed run keeps its own")
    p.add_argument("--checkpoint-every", type=float, default=300, help="seconds between checkpoints")
    p.add_argument("--init", metavar="NAME", default=None,
                   help="start a new run from the weights of an installed model (its shape too), loaded like the "
                        "app loads it (safetensors, sha256 checked) from the weights folder; the optimizer and the "
                        "schedule start afresh. For continuing across machines, where runs/ is not kept")
    p.add_argument("--export", action="store_true",
                   help="no training: evaluate the latest checkpoint and write weights + card from it")


def train_images(args):
    """Training images as floats in [0,1], [N,1,28,28]; tiny synthetic strokes for a dry run without data."""
    import torch

    from genlib import data

    def strokes():
        x = torch.zeros(64, 1, 28, 28)
        x[:, 0, 6:22, 12:16] = torch.rand(64, 16, 4, generator=torch.Generator().manual_seed(0))  # "ones"
        return x

    x = real_or_synthetic(args, lambda: data.load_npz("mnist", args.data)["x_train"], strokes)
    return x if isinstance(x, torch.Tensor) else torch.from_numpy(x).float()[:, None] / 255


def test_images(args):
    """The standard binarized test set; random sparse pixels for a dry run without data."""
    import torch

    from genlib import data

    def sparse_pixels():
        return (torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(1)) < 0.1).float()

    return real_or_synthetic(args, lambda: data.binarized_test_set("mnist", args.data), sparse_pixels)


def mean_nll(model, x, batch: int = 500) -> float:
    """Mean negative log-likelihood in nats per image of the binary images x [N,1,28,28]."""
    import torch

    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            total += -model.log_prob(x[i:i + batch]).sum().item()
    return total / len(x)


def learning_rate(args, step: int, progress: float) -> float:
    warm = min(1.0, (step + 1) / max(args.warmup, 1))
    return args.lr * warm * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def scheduled_learning_rate(run, opt) -> float:
    """Set and return the learning rate of this step: warm-up, then the cosine over the run's progress."""
    lr = learning_rate(run.args, run.step, run.progress(run.args.steps, run.args.minutes))
    for group in opt.param_groups:
        group["lr"] = lr
    return lr


def optimizer_step(model, opt, ema, loss, clip: float, running: dict) -> float:
    """Backward, clip the gradient norm at `clip`, step, update the EMA; returns the loss smoothed over steps
    (running["loss"], an exponential average for the console and the log)."""
    import torch

    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    ema.update_parameters(model)
    last = running.get("loss")
    running["loss"] = loss.item() if last is None else 0.98 * last + 0.02 * loss.item()
    return running["loss"]


def starting_model(args, build, config: dict, weights_dir, add_blocks: int = 0, extend: dict | None = None):
    """(model, initialised_from): a new model of `config`, or with --init the installed model's weights (and
    shape), grown by `add_blocks` identity blocks, or by the freshly initialised parts that the config keys in
    `extend` add (e.g. the flow's variational dequantizer)."""
    import torch

    from genlib import zoo

    if not args.init or args.resume or args.export:
        if add_blocks:
            raise SystemExit("--add-blocks grows an installed model at the start of a new run: give it with "
                             "--init NAME, without --resume or --export")
        return build(config), None
    if not (Path(weights_dir) / f"{args.init}.json").exists():  # the run's own folder first, then the installed ones
        weights_dir = zoo.WEIGHTS_DIR
    start = zoo.load(args.init, weights_dir=weights_dir)
    torch.manual_seed(args.seed)  # as for a new model: the added blocks' random weights depend on the seed only
    model = build({**start.config, **(extend or {})})
    missing, unexpected = model.load_state_dict(start.state_dict(), strict=not extend)
    if unexpected or (missing and not extend):
        raise SystemExit(f"--init {args.init}: weights do not fit ({unexpected or missing})")
    if add_blocks:
        model.add_identity_blocks(add_blocks)
    return model, {"name": args.init, "sha256": start.card["sha256"],
                   "test_nll_nats": zoo.metric(start.card, "test_nll_nats"),
                   "images_seen": images_seen(start.card),  # the earlier runs' images and time, so totals add up
                   "wall_time_s": wall_time_s(start.card),
                   **({"earlier_runs_uncounted": True} if uncounted_start(start.card) else {}),
                   **({"added_identity_blocks": add_blocks} if add_blocks else {}),
                   **({"added": extend, "newly_initialised_tensors": len(missing)} if extend else {})}


def resumed_settings(args, ck: dict | None, config: dict) -> dict:
    """The config to build; on --resume / --export the run keeps its own shape, precision (args.bf16), batch size,
    peak learning rate, warm-up and EMA decay (not the CLI's defaults), and an export describes the run's own
    schedule (args.minutes, args.steps; a resume may extend them). A new run trains in bf16 unless told."""
    if ck:
        config, args.bf16 = ck["config"], ck.get("bf16", False) if args.bf16 is None else args.bf16
        for arg, key in (("batch_size", "batch_size"), ("lr", "lr"), ("warmup", "warmup"), ("ema", "ema_decay")):
            setattr(args, arg, ck.get(key, getattr(args, arg)))  # older checkpoints lack some: the CLI's value
        if args.export:
            args.minutes, args.steps = ck.get("minutes", args.minutes), ck.get("total_steps", args.steps)
    args.bf16 = True if args.bf16 is None else args.bf16
    return config


def fit(run, model, train_step, monitor, initialised_from) -> None:
    """Train (unless --export) with the run's schedule; each checkpoint holds what resumed_settings() reads back."""
    args = run.args

    def state():
        return dict(config=model.config, minutes=args.minutes, total_steps=args.steps, bf16=args.bf16,
                    batch_size=args.batch_size, lr=args.lr, warmup=args.warmup, ema_decay=args.ema,
                    initialised_from=initialised_from)

    if not args.export:
        model.train()
        run.fit(train_step, state, steps=args.steps, minutes=args.minutes, checkpoint_every=args.checkpoint_every,
                log_every=50, at_checkpoint=monitor)


def train(args, family: str, build, config: dict, published: dict, add_blocks: int = 0) -> dict:
    """Train (or on --export only evaluate) the model `build(config)` and write its weights and card."""
    import torch

    from genlib.pixelcnn import bernoulli_nll

    run = Run(args, ["lr", "loss", "monitor_nll", "monitor_nll_ema"])
    ck = run.resume()
    config = resumed_settings(args, ck, config)
    model, initialised_from = starting_model(args, build, config, run.out_dir, add_blocks)
    ema = ema_of(model, args.ema)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = torch.Generator().manual_seed(args.seed)  # batches and binarization draws
    run.track(model=model, ema=ema, opt=opt, rng=rng)
    initialised_from = ck.get("initialised_from") if ck else initialised_from
    x_train = train_images(args)
    monitor = torch.bernoulli(x_train[:MONITOR_IMAGES], generator=torch.Generator().manual_seed(1))
    running = {"loss": None}

    def train_step():
        lr = scheduled_learning_rate(run, opt)
        x = torch.bernoulli(x_train[torch.randint(len(x_train), (args.batch_size,), generator=rng)],
                            generator=rng)                      # [B,1,28,28], a fresh binarization
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(x)                                   # [B,1,28,28], bf16 under autocast
        loss = bernoulli_nll(logits, x).mean()                  # nats per image, in float32
        # the clip only guards against rare spikes
        return {"loss": optimizer_step(model, opt, ema, loss, clip=100.0, running=running), "lr": lr}

    def monitor_nll():  # a cheap progress signal at each checkpoint
        raw, averaged = mean_nll(model.eval(), monitor[:300]), mean_nll(ema.module, monitor[:300])
        model.train()
        print(f"step {run.step}: train-monitor NLL raw {raw:.2f} ema {averaged:.2f}", flush=True)
        return {"monitor_nll": raw, "monitor_nll_ema": averaged}

    fit(run, model, train_step, monitor_nll, initialised_from)
    return export(run, family, {"raw": model.eval(), "ema": ema.module}, monitor, len(x_train), published,
                  initialised_from)


def export(run, family: str, candidates: dict, monitor, n_train: int, published: dict, initialised_from) -> dict:
    """Write whichever candidate model has the lower NLL on the monitor images, with its standard test NLL."""
    import time

    from genlib import zoo
    from genlib.metrics import bits_per_dim

    args = run.args
    scores = {name: mean_nll(m, monitor) for name, m in candidates.items()}
    which = min(scores, key=scores.get)
    t0 = time.time()
    test = test_images(args)
    nll = mean_nll(candidates[which], test)
    print(f"monitor NLL {scores}; exporting {which}; test NLL {nll:.3f} nats = {bits_per_dim(nll):.4f} bits/dim "
          f"({len(test)} images, {time.time() - t0:.0f} s)", flush=True)
    card = zoo.save(candidates[which], args.name, {
        **run.card_fields(), "family": family, "config": candidates[which].config, "licence": LICENCE,
        "dataset": {"id": "mnist", "description": f"{zoo.DATASETS['mnist']}; {DATASET}"},
        "epochs": round(run.step * args.batch_size / n_train, 2), "batch_size": args.batch_size,
        "schedule": f"{'bfloat16 autocast, ' if args.bf16 else ''}Adam, lr {args.lr} peak, {args.warmup} warm-up "
                    "steps, cosine to 0 over "
                    f"{'%g min' % args.minutes if args.minutes else '%d steps' % args.steps}; EMA {args.ema}",
        "exported_weights": which,
        **({"initialised_from": initialised_from} if initialised_from else {}),
        # < 1: exported from a run still in progress (its learning rate not yet annealed to 0)
        "schedule_completed": round(min(1.0, run.progress(args.steps, args.minutes)), 3),
        "metrics": {"measured_with": command_string(args), "eval_set": "binarized MNIST test set (ARCHITECTURE.md)",
                    "eval_images": len(test), "test_nll_nats": round(nll, 3),
                    "test_bits_per_dim": round(bits_per_dim(nll), 4), "published_test_nll_nats": published},
    }, weights_dir=run.out_dir)
    print(f"wrote {card['name']} ({card['parameters']} parameters) to {run.out_dir or zoo.WEIGHTS_DIR}", flush=True)
    return card
