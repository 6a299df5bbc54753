"""Train the FID-UTK feature extractor: `python -m genlib.train classifier [--threads 1]`.

Three cross-entropy heads (age group, gender, race) on the UTKFace train split; faces with a missing
race label do not count for the race head. Horizontal flips as augmentation. Test-split accuracies go
into the model card (weights/faces-classifier.json).
"""
from __future__ import annotations

import time
from pathlib import Path

from genlib.train.common import CsvLog, Progress, add_common_arguments, command_string, run_dir, save_checkpoint

LICENCE = ("Trained on UTKFace labels (Zhang, Song, Qi, CVPR 2017): non-commercial research and "
           "education only; image copyright stays with the original owners.")


def add_arguments(p):
    add_common_arguments(p, default_name="faces-classifier", default_steps=2000, default_batch=128)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--features", type=int, default=128, help="feature size used by FID-UTK")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--max-minutes", type=float, default=0, help="stop after this wall time")


def _load(split, args):
    import numpy as np
    import torch

    from genlib.classifier import age_group
    from genlib.data import DataMissingError, load_faces

    try:
        d = load_faces(split, root=args.data)
    except DataMissingError:
        if not args.dry_run:
            raise
        rng = np.random.default_rng(0 if split == "train" else 1)
        n = 64
        d = {"x": rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), "age": rng.integers(1, 90, n),
             "gender": rng.integers(0, 2, n), "race": rng.integers(-1, 5, n)}
    if args.dry_run:
        d = {k: v[:64] for k, v in d.items()}
    x = torch.from_numpy(np.ascontiguousarray(d["x"])).permute(0, 3, 1, 2).contiguous()  # uint8 [N,3,64,64]
    y = {"age": age_group(d["age"]), "gender": torch.as_tensor(d["gender"]), "race": torch.as_tensor(d["race"])}
    return x, y


def evaluate(model, x, y, batch_size=256) -> dict:
    import torch

    correct = {k: 0 for k in y}
    counted = {k: 0 for k in y}
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            out = model(x[i:i + batch_size].float() / 255)
            for k in y:
                t = y[k][i:i + batch_size]
                ok = t >= 0
                correct[k] += int((out[k].argmax(1)[ok] == t[ok]).sum())
                counted[k] += int(ok.sum())
    return {f"test_accuracy_{k}": round(correct[k] / max(counted[k], 1), 4) for k in y}


def main(args):
    import torch
    import torch.nn.functional as F

    import genlib
    from genlib.classifier import AGE_GROUPS, build

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.dry_run:
        args.width, args.features, args.steps, args.batch_size = 8, 16, 2, 16
    torch.manual_seed(args.seed)
    out = Path(args.out_dir) if args.out_dir else None
    rdir = (out / "runs") if (args.dry_run and out) else run_dir(args.name, args.dry_run)
    rdir.mkdir(parents=True, exist_ok=True)

    x, y = _load("train", args)
    x_test, y_test = _load("test", args)
    cfg = {"width": args.width, "features": args.features}
    model = build(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    g = torch.Generator().manual_seed(args.seed)
    log = CsvLog(rdir / "losses.csv", ["step", "loss", "loss_age", "loss_gender", "loss_race", "elapsed_s"])
    progress = Progress(args.steps, every=30.0)
    t0, step = time.time(), 0
    model.train()
    while step < args.steps:
        idx = torch.randint(0, len(x), (args.batch_size,), generator=g)
        xb = x[idx].float() / 255
        flip = torch.rand(args.batch_size, generator=g) < 0.5
        xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb)
        out_ = model(xb)
        losses = {k: F.cross_entropy(out_[k], y[k][idx], ignore_index=-1) for k in ("age", "gender", "race")}
        loss = sum(losses.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % 10 == 0 or step == args.steps:
            log.write(step=step, loss=round(loss.item(), 4), elapsed_s=round(time.time() - t0, 1),
                      **{f"loss_{k}": round(v.item(), 4) for k, v in losses.items()})
        progress(step, loss=loss.item())
        if args.max_minutes and time.time() - t0 > args.max_minutes * 60:
            print(f"time limit reached at step {step}", flush=True)
            break
    wall = time.time() - t0
    save_checkpoint(rdir / "checkpoint.pt", model=model.state_dict(), step=step, config=cfg)
    metrics = evaluate(model, x_test, y_test)
    metrics["measured_with"] = command_string(args) + "  (test split, 1,166 faces; accuracies after training)"
    card = genlib.save(model.eval(), args.name, {
        "family": "classifier", "config": cfg, "seed": args.seed, "steps": step,
        "epochs": round(step * args.batch_size / len(x), 2), "wall_time_s": round(wall, 1),
        "dataset": "UTKFace aligned & cropped, 64x64 RGB, train split (22,151 faces)",
        "licence": LICENCE, "command": command_string(args),
        "labels": {"age": AGE_GROUPS, "gender": ["male", "female"],
                   "race": ["White", "Black", "Asian", "Indian", "Others"]},
        "purpose": "feature extractor for FID-UTK (128-D pooled features) and the feature-space memorisation check of gan-faces",
        "metrics": metrics}, weights_dir=out)
    print(f"done: {step} steps in {wall / 60:.1f} min; {metrics}", flush=True)
    return card
