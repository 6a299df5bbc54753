"""Train the face GAN: `python -m genlib.train gan [--threads 1] [--resume] [--max-minutes M]`.

Recipe (why each piece, measured numbers in docs/notes/issue-4.md):
- DCGAN generator (BatchNorm) + spectral-norm discriminator, non-saturating logistic loss,
  Adam(2e-4, betas 0.5/0.999) as in DCGAN: converges to faces in a few thousand steps.
- Horizontal flips of the real faces (faces are near-symmetric: twice the data, for free).
- DiffAugment (Zhao et al. 2020) is available (--augment translation), but off by default: measured
  here it costs +50% per step (1.19 s -> 1.82 s per batch of 64 on one busy core), and in the ~15
  epochs this CPU affords, D overfitting the 22k faces (what DiffAugment fixes) is not yet the limit.
- EMA of G's weights (decay 0.999): averages out the step-to-step jitter of GAN training; it is what
  ships, with BatchNorm statistics recomputed for the averaged weights.

Everything lands in runs/<name>/ (genlib/train/common.py): checkpoint.pt (every 5 minutes; --resume
continues it), log.csv, grid_stepXXXXXX_epochX.XX.png (EMA samples of one fixed noise batch, comparable
across the run). `--export` writes weights/<name> (fp16 EMA generator) and weights/<name>-d from the latest
checkpoint; a finished run exports itself.
"""
from __future__ import annotations

from genlib.train.common import Run, add_common_arguments, ema_of, ema_weights, real_or_synthetic

LICENCE = ("Trained on UTKFace (Zhang, Song, Qi, CVPR 2017), released for non-commercial research "
           "purposes only; image copyright stays with the original owners. Treat this model under the "
           "same terms: research and education only, no commercial use.")
BN_BATCHES, BN_BATCH_SIZE = 64, 64  # the exported G's BatchNorm statistics: 4,096 prior samples


def add_arguments(p):
    add_common_arguments(p, default_name="gan-faces", default_steps=30000)
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--ngf", type=int, default=32, help="generator width (ngf=32: ~350 img/s on 2 cores)")
    p.add_argument("--ndf", type=int, default=32, help="discriminator width")
    p.add_argument("--upsample", default="transposed", choices=["transposed", "nearest"],
                   help="G's upsampling: 4x4 stride-2 transposed convolutions, or nearest x2 + 3x3 convolution")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay of the shipped generator")
    p.add_argument("--augment", default="none", choices=["none", "translation", "color,translation"],
                   help="DiffAugment policy, applied to real and fake images")
    p.add_argument("--max-minutes", type=float, default=0, help="stop (and export) after this wall time")
    p.add_argument("--export", action="store_true", help="only export the latest checkpoint to weights/")
    p.add_argument("--bf16", action="store_true",
                   help="G and D convolutions in bfloat16 autocast (losses, weights, Adam stay float32): 2.0x the "
                        "float32 img/s on this AVX512-BF16 CPU, one thread (benchmarks/gan_training.py)")
    p.add_argument("--init", metavar="NAME", default=None,
                   help="start a new run from installed weights: G from weights/NAME, D from weights/NAME-d "
                        "(safetensors, sha256 checked); optimizers start afresh. How training continues on a new "
                        "machine, where runs/ is not kept")


# ---- DiffAugment (differentiable, same op on reals and fakes) -------------------------------------

def diff_augment(x, policy: str, g=None):
    import torch
    import torch.nn.functional as F

    if "color" in policy:
        n = x.shape[0]
        x = x + (torch.rand(n, 1, 1, 1, generator=g) - 0.5)  # brightness
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (torch.rand(n, 1, 1, 1, generator=g) * 2) + mean  # saturation
        mean = x.mean(dim=[1, 2, 3], keepdim=True)
        x = (x - mean) * (torch.rand(n, 1, 1, 1, generator=g) + 0.5) + mean  # contrast
    if "translation" in policy:
        # shift each image by up to 1/8 of its size, zero padding (as in the DiffAugment reference code)
        n, _, h, w = x.shape
        s = h // 8
        pad = F.pad(x, [s, s, s, s])
        dx = torch.randint(0, 2 * s + 1, (n,), generator=g)
        dy = torch.randint(0, 2 * s + 1, (n,), generator=g)
        rows = (torch.arange(h).view(1, h) + dy.view(n, 1))  # [n, h]
        cols = (torch.arange(w).view(1, w) + dx.view(n, 1))  # [n, w]
        idx_n = torch.arange(n).view(n, 1, 1)
        x = pad.permute(0, 2, 3, 1)[idx_n, rows.view(n, h, 1), cols.view(n, 1, w)].permute(0, 3, 1, 2)
    return x


# ---- data ------------------------------------------------------------------------------------------

def training_faces(args):
    """uint8 tensor [N, 3, 64, 64]; random pixels for a dry run without the face data."""
    import numpy as np
    import torch

    from genlib.data import load_faces

    x = real_or_synthetic(args, lambda: load_faces("train", root=args.data)["x"],
                          lambda: np.random.default_rng(0).integers(0, 256, (64, 64, 64, 3), dtype=np.uint8))
    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()


def to_model_scale(batch_uint8):
    return batch_uint8.float() / 127.5 - 1.0


# ---- models ------------------------------------------------------------------------------------------

def networks(args, weights_dir, ck: dict | None):
    """(config, G, D, initialised_from): nets of the checkpoint's shape on --resume (Run.track restores them);
    the installed G and D on --init; else fresh nets of the CLI's shape."""
    import genlib
    from genlib import families
    from genlib.gan import build

    cfg = {"z_dim": args.z_dim, "ngf": args.ngf, "ndf": args.ndf, "upsample": args.upsample}
    start, initialised_from = None, None
    if ck:
        cfg, initialised_from = ck["config"], ck.get("initialised_from")
    elif args.init:
        G, D = genlib.load(args.init, weights_dir=weights_dir), genlib.load(f"{args.init}-d", weights_dir=weights_dir)
        cfg = {"z_dim": G.card["config"]["z_dim"], "ngf": G.card["config"]["ngf"], "ndf": D.card["config"]["ndf"],
               "upsample": G.card["config"].get("upsample", "transposed")}
        start = G.state_dict(), D.state_dict()
        initialised_from = {"name": args.init, "sha256": G.card["sha256"],  # all its runs' images and time
                            "images_seen": families.images_seen(G.card), "wall_time_s": families.wall_time_s(G.card)}
    G, D = build({**cfg, "net": "G"}), build({**cfg, "net": "D"})
    if start:
        G.load_state_dict(start[0]), D.load_state_dict(start[1])
    return cfg, G, D, initialised_from


def export(run, ck: dict) -> dict:
    """Write the EMA generator (fp16) as weights/<name> and D (fp16) as weights/<name>-d."""
    import genlib
    from genlib.gan import build, recompute_batchnorm_stats
    from genlib.zoo import DATASETS

    cfg, batches = ck["config"], 4 if run.args.dry_run else BN_BATCHES
    G = build({**cfg, "net": "G"})
    G.load_state_dict(ema_weights(ck["ema"]))
    recompute_batchnorm_stats(G, batches=batches, batch_size=BN_BATCH_SIZE)
    D = build({**cfg, "net": "D"})
    D.load_state_dict(ck["D"])
    start = ck.get("initialised_from")  # --init: the generation this run continued
    common = {**run.card_fields(), "family": "gan", "licence": LICENCE,
              "dataset": {"id": "utkface64", "description": f"{DATASETS['utkface64']}: train split "
                                                            f"({ck['n_train']:,} faces), horizontal flips"},
              "epochs": round(ck["images_seen"] / ck["n_train"], 2), "images_seen": ck["images_seen"],
              "training": ck["recipe"], **({"initialised_from": start} if start else {})}
    note = f"EMA generator; BatchNorm statistics recomputed over {batches * BN_BATCH_SIZE:,} prior samples"
    card = genlib.save(G, run.args.name, {**common, "config": {**cfg, "net": "G"}, "note": note},
                       weights_dir=run.out_dir, fp16=True)
    genlib.save(D, f"{run.args.name}-d", {**common, "config": {**cfg, "net": "D"},
                                           "note": f"the discriminator trained against {run.args.name} (raw G)"},
                weights_dir=run.out_dir, fp16=True)
    print(f"exported {run.args.name}: {card['parameters']} parameters, {card['file_bytes']} bytes, "
          f"step {card['steps']}", flush=True)
    return card


# ---- training ------------------------------------------------------------------------------------------

def main(args):
    import torch
    from PIL import Image

    from genlib.gan import grid

    if args.dry_run:
        args.ngf, args.ndf = 8, 8
    run = Run(args, ["epoch", "loss_d", "loss_g", "d_real", "d_fake"])
    ck = run.resume()
    if args.export:
        return export(run, ck)
    cfg, G, D, initialised_from = networks(args, run.out_dir, ck)
    G_ema = ema_of(G, args.ema)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(args.seed)  # batches + augmentation, checkpointed
    fixed_noise = torch.randn(64, cfg["z_dim"], generator=torch.Generator().manual_seed(1234))
    run.track(G=G, D=D, ema=G_ema, opt_g=opt_g, opt_d=opt_d, rng=rng)
    seen = {"images": ck["images_seen"] if ck else 0}
    args.bf16 = ck.get("bf16", args.bf16) if ck else args.bf16
    faces = training_faces(args)
    recipe = {"loss": "non-saturating logistic", "D": "spectral norm, no BatchNorm",
              "G": f"DCGAN, BatchNorm, {cfg.get('upsample', 'transposed')} upsampling",
              "optimizer": f"Adam lr {args.lr} betas (0.5, 0.999), batch {args.batch_size}",
              "ema_decay": args.ema, "diffaugment": args.augment, "real_flip": True,
              "precision": "bfloat16 autocast" if args.bf16 else "float32"}
    print(f"training {args.name}: {len(faces)} faces, G {sum(p.numel() for p in G.parameters())} D "
          f"{sum(p.numel() for p in D.parameters())} parameters, threads {torch.get_num_threads()}", flush=True)

    def train_step():
        real = to_model_scale(faces[torch.randint(0, len(faces), (args.batch_size,), generator=rng)])
        flip = torch.rand(args.batch_size, generator=rng) < 0.5
        real = torch.where(flip.view(-1, 1, 1, 1), real.flip(3), real)
        losses = gan_step(G, D, opt_g, opt_d, real, torch.randn(args.batch_size, cfg["z_dim"], generator=rng),
                          args, rng)
        G_ema.update_parameters(G)
        seen["images"] += args.batch_size
        return {"epoch": seen["images"] / len(faces), **losses}

    def state():
        return dict(images_seen=seen["images"], config=cfg, n_train=len(faces), recipe=recipe, bf16=args.bf16,
                    initialised_from=initialised_from)

    def save_grid():
        with torch.no_grad():
            images = ((G_ema.module.eval()(fixed_noise) + 1) / 2).clamp(0, 1)
        epoch = seen["images"] / len(faces)
        Image.fromarray(grid(images, nrow=8)).save(run.dir / f"grid_step{run.step:06d}_epoch{epoch:.2f}.png")

    G.train(), D.train()
    run.fit(train_step, state, steps=args.steps, minutes=args.max_minutes, at_checkpoint=save_grid)
    return export(run, run.latest())


def gan_step(G, D, opt_g, opt_d, real, z, args, rng) -> dict:
    """One update of D, then one of G, on a batch of real faces (model scale) and latents z."""
    import torch
    import torch.nn.functional as F

    # (1) Update D: maximise log D(x) + log(1 - D(G(z)))  ==  minimise softplus(-D(x)) + softplus(D(G(z)))
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        fake = G(z)
        d_real = D(diff_augment(real, args.augment, rng)).float()
        d_fake = D(diff_augment(fake.detach(), args.augment, rng)).float()
    loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    # (2) Update G: non-saturating, maximise log D(G(z)) (strong gradients while D still wins)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
        d_gen = D(diff_augment(fake, args.augment, rng)).float()
    loss_g = F.softplus(-d_gen).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "d_real": torch.sigmoid(d_real).mean().item(),
            "d_fake": torch.sigmoid(d_fake).mean().item()}
