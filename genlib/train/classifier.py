"""Train the FID-UTK feature extractor: `python -m genlib.train classifier [--threads 1]`.

Three cross-entropy heads (age group, gender, race) on the UTKFace train split; faces with a missing
race label do not count for the race head. Horizontal flips as augmentation. Test-split accuracies go
into the model card (weights/faces-classifier.json).
"""
from __future__ import annotations

from genlib.train.common import Run, add_common_arguments, command_string, real_or_synthetic

LICENCE = ("Trained on UTKFace labels (Zhang, Song, Qi, CVPR 2017): non-commercial research and "
           "education only; image copyright stays with the original owners.")


def add_arguments(p):
    add_common_arguments(p, default_name="faces-classifier", default_steps=2000, default_batch=128)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--features", type=int, default=128, help="feature size used by FID-UTK")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--max-minutes", type=float, default=0, help="stop after this wall time")


def faces_and_labels(split, args):
    """uint8 faces [N,3,64,64] and their labels {age group, gender, race (-1: missing)}; random faces and
    labels for a dry run without the face data."""
    import numpy as np
    import torch

    from genlib.classifier import age_group
    from genlib.data import load_faces

    def synthetic(n=64):
        rng = np.random.default_rng(0 if split == "train" else 1)
        return {"x": rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), "age": rng.integers(1, 90, n),
                "gender": rng.integers(0, 2, n), "race": rng.integers(-1, 5, n)}

    d = real_or_synthetic(args, lambda: load_faces(split, root=args.data), synthetic)
    x = torch.from_numpy(np.ascontiguousarray(d["x"])).permute(0, 3, 1, 2).contiguous()
    return x, {"age": age_group(d["age"]), "gender": torch.as_tensor(d["gender"]), "race": torch.as_tensor(d["race"])}


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
    from genlib.classifier import AGE_GROUPS, GENDERS, RACES, build
    from genlib.zoo import DATASETS

    if args.dry_run:
        args.width, args.features = 8, 16
    run = Run(args, ["loss", "loss_age", "loss_gender", "loss_race"])
    x, y = faces_and_labels("train", args)
    x_test, y_test = faces_and_labels("test", args)
    cfg = {"width": args.width, "features": args.features}
    model = build(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    g = torch.Generator().manual_seed(args.seed)
    run.track(model=model, opt=opt, sched=sched, rng=g)

    def train_step():
        idx = torch.randint(0, len(x), (args.batch_size,), generator=g)
        xb = x[idx].float() / 255
        flip = torch.rand(args.batch_size, generator=g) < 0.5
        out = model(torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb))
        losses = {k: F.cross_entropy(out[k], y[k][idx], ignore_index=-1) for k in ("age", "gender", "race")}
        loss = sum(losses.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item(), **{f"loss_{k}": v.item() for k, v in losses.items()}}

    model.train()
    run.fit(train_step, lambda: {"config": cfg}, steps=args.steps, minutes=args.max_minutes)
    metrics = {"measured_with": command_string(args), "eval_images": len(x_test),
               "eval_set": f"UTKFace test split, {len(x_test):,} faces; accuracies after training",
               **evaluate(model, x_test, y_test)}
    card = genlib.save(model.eval(), args.name, {
        **run.card_fields(), "family": "classifier", "config": cfg,
        "epochs": round(run.step * args.batch_size / len(x), 2),
        "dataset": {"id": "utkface64", "description": f"{DATASETS['utkface64']}: train split ({len(x):,} faces)"},
        "licence": LICENCE, "labels": {"age": AGE_GROUPS, "gender": GENDERS, "race": RACES},
        "purpose": f"feature extractor for FID-UTK ({args.features}-D pooled features) and the feature-space "
                   "memorisation check of gan-faces",
        "metrics": metrics}, weights_dir=run.out_dir)
    print(f"done: {run.step} steps in {run.elapsed / 60:.1f} min; {metrics}", flush=True)
    return card
