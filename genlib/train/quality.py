"""Train the face-quality encoder: `python -m genlib.train quality [--threads 1]` -> weights/faces-quality.

A small CNN (genlib.image_quality.SmallCNN) learns to tell real UTKFace training faces from the same faces
blurred, noised, JPEG-compressed or resampled, each at a random strength. Its pooled features therefore see
sharpness, noise and compression, which the identity features behind FID-UTK ignore; genlib/evaluate_gan.py
measures Frechet distances in that space and checks them on a ladder of fixed degradations of the *test* faces,
which the encoder never saw. Horizontal flips as augmentation.
"""
from __future__ import annotations

from genlib.train.common import Run, add_common_arguments, command_string, real_or_synthetic

LICENCE = ("Trained on UTKFace (Zhang, Song, Qi, CVPR 2017): non-commercial research and education only; image "
           "copyright stays with the original owners. Treat this model under the same terms.")


def add_arguments(p):
    add_common_arguments(p, default_name="faces-quality", default_steps=1200, default_batch=80)
    p.add_argument("--width", type=int, default=24, help="channels of the first conv (features: 4x this)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--max-minutes", type=float, default=0, help="stop after this wall time")


def main(args):
    import numpy as np
    import torch
    import torch.nn.functional as F

    import genlib
    from genlib.data import load_faces
    from genlib.image_quality import DEGRADATIONS, build, random_degradation
    from genlib.zoo import DATASETS

    if args.dry_run:
        args.width = 4
    run = Run(args, ["loss", "accuracy"])

    def faces(split):
        synthetic = lambda: np.random.default_rng(0).integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)  # noqa: E731
        x = real_or_synthetic(args, lambda: load_faces(split, root=args.data)["x"], synthetic)
        return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()  # uint8 [N,3,64,64]

    x, x_test = faces("train"), faces("test")
    cfg = {"width": args.width, "outputs": len(DEGRADATIONS)}
    model = build(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(args.steps, 2))
    g = torch.Generator().manual_seed(args.seed)
    run.track(model=model, opt=opt, sched=sched, rng=g)

    def train_step():
        idx = torch.randint(0, len(x), (args.batch_size,), generator=g)
        xb = x[idx].float() / 255
        flip = torch.rand(len(idx), generator=g) < 0.5
        xb, labels = random_degradation(torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb), g)
        logits = model(xb)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched.last_epoch + 1 < sched.total_steps:  # OneCycleLR refuses a step past its end
            sched.step()
        return {"loss": loss.item(), "accuracy": (logits.argmax(1) == labels).float().mean().item()}

    model.train()
    run.fit(train_step, lambda: {"config": cfg}, steps=args.steps, minutes=args.max_minutes)
    model.eval()
    with torch.no_grad():  # held-out: the test faces, degraded with a fixed seed
        xt, yt = random_degradation(x_test[:1000].float() / 255, torch.Generator().manual_seed(1))
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    metrics = {"measured_with": command_string(args), "eval_images": len(xt),
               "eval_set": "UTKFace test faces, each fifth real or degraded at a random strength (seed 1)",
               "test_accuracy_degradation_class": round(accuracy, 4)}
    card = genlib.save(model, args.name, {
        **run.card_fields(), "family": "quality", "config": cfg,
        "epochs": round(run.step * args.batch_size / len(x), 2),
        "dataset": {"id": "utkface64", "description": f"{DATASETS['utkface64']}: train split ({len(x):,} faces), "
                                                      "real or degraded (blur, noise, JPEG, resampling)"},
        "licence": LICENCE, "classes": list(DEGRADATIONS),
        "purpose": "feature space of the face GAN's quality ladder (genlib/evaluate_gan.py)",
        "metrics": metrics}, weights_dir=run.out_dir)
    print(f"done: {run.step} steps in {run.elapsed / 60:.1f} min; {metrics}", flush=True)
    return card
