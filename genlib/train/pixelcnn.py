"""Train the PixelCNN on binarized MNIST -> weights/pixelcnn-mnist (python -m genlib.train pixelcnn).

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
import copy
import math
import time

from genlib.train.common import (CsvLog, Progress, add_common_arguments, command_string, load_checkpoint,
                                 run_dir, save_checkpoint)

DATASET = "MNIST (LeCun, Cortes, Burges), binarized: dynamic Bernoulli(x/255) for training; test set " \
          "binarized once with torch.Generator().manual_seed(0)"
LICENCE = "MNIST: no licence stated (NIST SD-1/SD-3, US Government works); commonly listed as CC BY-SA 3.0. " \
          "Attribute LeCun, Cortes and Burges."
PUBLISHED = {"PixelCNN (van den Oord et al. 2016)": 81.30, "PixelRNN, Row LSTM/Diagonal BiLSTM (2016)": 79.20}


def add_arguments(p):
    add_common_autoregressive_arguments(p, default_name="pixelcnn-mnist")
    # 96 x 8 with the paper's C/2 bottleneck. Session 1's 48 x 6 flattened at ~90.6 nats (train monitor)
    # after 4 epochs, capacity-bound; 64 x 8 in fp32 reached 88.06 in 6 epochs. bf16 autocast made every
    # shape ~3x faster, which buys the wider model ~25 epochs in the budget (docs/notes/issue-7.md).
    # Keep these equal to genlib.pixelcnn.DEFAULT_CONFIG (not imported here: it would load torch for --help).
    p.add_argument("--channels", type=int, default=96, help="residual stream width C")
    p.add_argument("--hidden", type=int, default=None, help="width inside each block (default C/2, the paper's)")
    p.add_argument("--blocks", type=int, default=8, help="residual blocks: receptive field 3 + blocks rows up")
    p.add_argument("--head", type=int, default=96, help="width of the 1x1 output layer")
    p.add_argument("--add-blocks", type=int, default=0, metavar="N",
                   help="with --init: append N residual blocks that start as the identity (output conv zero), so "
                        "training continues the installed model's exact function with more depth")


def add_common_autoregressive_arguments(p, default_name):
    """The options of every autoregressive trainer (PixelCNN, PixelRNN): schedule, precision, checkpoints."""
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


def _train_images(args):
    """Training images as floats in [0,1], [N,1,28,28]; tiny synthetic strokes for a dry run without data."""
    import torch

    from genlib import data

    try:
        x = data.load_npz("mnist", args.data)["x_train"]
    except data.DataMissingError:
        if not args.dry_run:
            raise
        g = torch.Generator().manual_seed(0)
        x = torch.zeros(64, 28, 28)
        x[:, 6:22, 12:16] = torch.rand(64, 16, 4, generator=g)  # vertical bars: "ones"
        return x[:, None]
    x = torch.from_numpy(x).float()[:, None] / 255
    return x[:64] if args.dry_run else x


def _test_images(args):
    import torch

    from genlib import data

    try:
        test = data.binarized_test_set("mnist", args.data)
        return test[:64] if args.dry_run else test
    except data.DataMissingError:
        if not args.dry_run:
            raise
        return (torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(1)) < 0.1).float()


def mean_nll(model, x, batch: int = 500) -> float:
    """Mean negative log-likelihood in nats per image of the binary images x [N,1,28,28]."""
    import torch

    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            total += -model.log_prob(x[i:i + batch]).sum().item()
    return total / len(x)


def _lr(args, step: int, progress: float) -> float:
    warm = min(1.0, (step + 1) / max(args.warmup, 1))
    return args.lr * warm * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def main(args):
    from genlib import pixelcnn

    config = {"channels": args.channels, "blocks": args.blocks, "head": args.head, "hidden": args.hidden}
    if args.dry_run:
        config = {"channels": 8, "blocks": 1, "head": 8, "hidden": None}
    return train(args, family="pixelcnn", build=pixelcnn.build, config=config, published=PUBLISHED)


def train(args, family: str, build, config: dict, published: dict):
    """The autoregressive trainer shared by the PixelCNN and the PixelRNNs (genlib/train/pixelrnn.py): any
    model with logits = model(x) on binary [n,1,28,28] images; `build(config)` makes it."""
    import torch

    from genlib import pixelcnn, zoo
    from genlib.metrics import bits_per_dim

    torch.set_num_threads(args.threads) if args.threads > 0 else None
    if args.dry_run:
        args.steps, args.batch_size = 2, 8
    out_dir = args.out_dir or (run_dir(args.name, True) if args.dry_run else None)
    rdir = run_dir(args.name, args.dry_run)
    ckpt_path = rdir / "checkpoint.pt"

    initialised_from, start = None, None
    if args.init and not (args.resume or args.export):
        start = zoo.load(args.init, weights_dir=out_dir)
        initialised_from = {"name": args.init, "sha256": start.card["sha256"],
                            "test_nll_nats": start.card.get("metrics", {}).get("test_nll_nats"),
                            **({"added_identity_blocks": args.add_blocks} if getattr(args, "add_blocks", 0) else {})}
        config = start.config

    torch.manual_seed(args.seed)
    model = build(config)
    add_blocks = getattr(args, "add_blocks", 0)
    if start is not None:
        model.load_state_dict(start.state_dict())
        if add_blocks:
            model.add_identity_blocks(add_blocks)
    elif add_blocks:
        raise SystemExit("--add-blocks grows an installed model at the start of a new run: give it with --init "
                         "NAME, without --resume or --export")
    config = model.config  # with the block width filled in (default C/2)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)  # batches and binarization draws
    step, elapsed, command = 0, 0.0, command_string(args)
    if args.bf16 is None and not (args.resume or args.export):
        args.bf16 = True  # a new run; a resumed one keeps its checkpoint's precision (below)
    resumed_with = []  # later commands that continued this run (a resume may change --minutes or --threads)
    if args.resume or args.export:
        if not ckpt_path.exists():
            raise SystemExit(f"no checkpoint at {ckpt_path}")
        ck = load_checkpoint(ckpt_path)
        config, command = ck["config"], ck["command"]
        resumed_with = ck.get("resumed_with", []) + ([command_string(args)] if args.resume else [])
        if args.export:  # describe the run's own schedule, not this command's defaults
            args.minutes, args.steps = ck.get("minutes", args.minutes), ck.get("total_steps", args.steps)
        model, ema = build(config), build(config).requires_grad_(False)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        initialised_from = ck.get("initialised_from")
        step, elapsed = ck["step"], ck["elapsed"]
        args.bf16 = ck.get("bf16", False) if args.bf16 is None else args.bf16
        args.batch_size = ck.get("batch_size", args.batch_size)  # the card's epochs count the run's batches
        print(f"resumed at step {step} ({elapsed / 60:.1f} min trained)", flush=True)

    x_train = _train_images(args)
    monitor = torch.bernoulli(x_train[:2000], generator=torch.Generator().manual_seed(1))
    log = CsvLog(rdir / "log.csv", ["step", "elapsed_s", "lr", "loss", "monitor_nll", "monitor_nll_ema"])

    def checkpoint():
        save_checkpoint(ckpt_path, config=config, command=command, resumed_with=resumed_with,
                        minutes=args.minutes, total_steps=args.steps, bf16=args.bf16,
                        batch_size=args.batch_size, initialised_from=initialised_from, model=model.state_dict(),
                        ema=ema.state_dict(), opt=opt.state_dict(), gen=gen.get_state(), step=step,
                        elapsed=elapsed)

    def progress_of(step_, elapsed_):
        p = step_ / args.steps
        return max(p, elapsed_ / (60 * args.minutes)) if args.minutes > 0 else p

    if not args.export:
        show = Progress(args.steps, step, every=30)
        t_last, t_ckpt, running = time.time(), time.time(), None
        model.train()
        while progress_of(step, elapsed) < 1:
            lr = _lr(args, step, progress_of(step, elapsed))
            for group in opt.param_groups:
                group["lr"] = lr
            idx = torch.randint(len(x_train), (args.batch_size,), generator=gen)
            x = torch.bernoulli(x_train[idx], generator=gen)        # [B,1,28,28], a fresh binarization
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(x)                                    # [B,1,28,28], bf16 under autocast
            loss = pixelcnn.bernoulli_nll(logits, x).mean()          # nats per image, in float32
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 100.0)  # only guards against rare spikes
            opt.step()
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(pm, 1 - min(args.ema, (1 + step) / (10 + step)))
            step += 1
            now = time.time()
            elapsed += now - t_last
            t_last = now
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            show(step, loss=running, lr=lr, min=elapsed / 60)
            if now - t_ckpt > args.checkpoint_every or progress_of(step, elapsed) >= 1:
                m_raw = mean_nll(model.eval(), monitor[:300])  # cheap progress signal
                m_ema = mean_nll(ema, monitor[:300])
                model.train()
                log.write(step=step, elapsed_s=round(elapsed, 1), lr=lr, loss=running, monitor_nll=m_raw,
                          monitor_nll_ema=m_ema)
                print(f"step {step}: train-monitor NLL raw {m_raw:.2f} ema {m_ema:.2f}", flush=True)
                checkpoint()
                t_ckpt = time.time()  # monitor time counts as training time: --minutes is wall time
        checkpoint()  # also when a resume had nothing left to train: the checkpoint records that command

    # Export: the better of raw / EMA weights on 2,000 training images, then the standard test NLL.
    model.eval()
    scores = {"raw": mean_nll(model, monitor), "ema": mean_nll(ema, monitor)}
    which = min(scores, key=scores.get)
    best = ema if which == "ema" else model
    t0 = time.time()
    test = _test_images(args)
    nll = mean_nll(best, test)
    eval_s = time.time() - t0
    print(f"monitor NLL {scores}; exporting {which}; test NLL {nll:.3f} nats = {bits_per_dim(nll):.4f} bits/dim "
          f"({len(test)} images, {eval_s:.0f} s)", flush=True)
    card = zoo.save(best, args.name, {
        "family": family, "config": config, "dataset": DATASET, "licence": LICENCE,
        "command": command, "seed": args.seed, "steps": step,
        "epochs": round(step * args.batch_size / len(x_train), 2), "batch_size": args.batch_size,
        "wall_time_s": round(elapsed, 1), "threads": args.threads,
        "schedule": f"{'bfloat16 autocast, ' if args.bf16 else ''}Adam, lr {args.lr} peak, {args.warmup} warm-up "
                    "steps, cosine to 0 over "
                    f"{'%g min' % args.minutes if args.minutes else '%d steps' % args.steps}; EMA {args.ema}",
        "exported_weights": which,
        **({"initialised_from": initialised_from} if initialised_from else {}),
        **({"resumed_with": resumed_with} if resumed_with else {}),
        # < 1: exported from a run still in progress (its learning rate not yet annealed to 0)
        "schedule_completed": round(min(1.0, progress_of(step, elapsed)), 3),
        "metrics": {"test_nll_nats": round(nll, 3), "test_bits_per_dim": round(bits_per_dim(nll), 4),
                    "test_images": len(test),
                    "eval": "standard binarized MNIST test set (ARCHITECTURE.md), measured by "
                            f"`python -m genlib.train {family} --name {args.name} --export`",
                    "published_test_nll_nats": published},
    }, weights_dir=out_dir)
    print(f"wrote {card['name']} ({card['parameters']} parameters) to {out_dir or zoo.WEIGHTS_DIR}", flush=True)
    return card
