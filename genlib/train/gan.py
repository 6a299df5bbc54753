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

Everything lands in runs/<name>/: checkpoint.pt (each epoch, --resume continues it), losses.csv,
grid_epochXXX.png (EMA samples of one fixed noise batch, comparable across epochs).
`--export` writes weights/<name> (fp16 EMA generator) and weights/<name>-d from the latest checkpoint.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

from genlib.train.common import (CsvLog, Progress, add_common_arguments, command_string, load_checkpoint,
                                 run_dir, save_checkpoint)

LICENCE = ("Trained on UTKFace (Zhang, Song, Qi, CVPR 2017), released for non-commercial research "
           "purposes only; image copyright stays with the original owners. Treat this model under the "
           "same terms: research and education only, no commercial use.")
DATASET = "UTKFace aligned & cropped, 64x64 RGB, train split (22,151 faces), horizontal flips"


def add_arguments(p):
    add_common_arguments(p, default_name="gan-faces", default_steps=30000)
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--ngf", type=int, default=32, help="generator width (ngf=32: ~350 img/s on 2 cores)")
    p.add_argument("--ndf", type=int, default=32, help="discriminator width")
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

def load_training_faces(args):
    """uint8 tensor [N, 3, 64, 64]. Dry runs fall back to random pixels when the face data is absent."""
    import numpy as np
    import torch

    from genlib.data import DataMissingError, load_faces

    try:
        x = load_faces("train", root=args.data)["x"]
    except DataMissingError:
        if not args.dry_run:
            raise
        x = np.random.default_rng(0).integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)
    if args.dry_run:
        x = x[:64]
    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()


def to_model_scale(batch_uint8):
    return batch_uint8.float() / 127.5 - 1.0


# ---- export ------------------------------------------------------------------------------------------

def export(ckpt: dict, args, weights_dir=None) -> dict:
    """Write the EMA generator (fp16) as weights/<name> and D (fp16) as weights/<name>-d."""
    import genlib
    from genlib.gan import build, recompute_batchnorm_stats

    cfg = ckpt["config"]
    G = build({**cfg, "net": "G"})
    G.load_state_dict(ckpt["G_ema"])
    recompute_batchnorm_stats(G, batches=4 if args.dry_run else 64)
    D = build({**cfg, "net": "D"})
    D.load_state_dict(ckpt["D"])
    common = {"family": "gan", "dataset": DATASET, "licence": LICENCE, "command": ckpt["command"],
              "seed": ckpt["seed"], "steps": ckpt["step"], "epochs": round(ckpt["images_seen"] / ckpt["n_train"], 2),
              "images_seen": ckpt["images_seen"], "wall_time_s": round(ckpt["elapsed"], 1),
              "training": ckpt["recipe"]}
    card = genlib.save(G, args.name, {**common, "config": {**cfg, "net": "G"},
                                      "note": "EMA generator; BatchNorm statistics recomputed over 4096 prior samples"},
                       weights_dir=weights_dir, fp16=True)
    genlib.save(D, f"{args.name}-d", {**common, "config": {**cfg, "net": "D"},
                                       "note": f"the discriminator trained against {args.name} (raw G)"},
                weights_dir=weights_dir, fp16=True)
    return card


# ---- training ------------------------------------------------------------------------------------------

def main(args):
    import torch
    import torch.nn.functional as F

    from genlib.gan import build, grid
    from PIL import Image

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.dry_run:
        args.ngf, args.ndf, args.batch_size, args.steps = 8, 8, 8, 2
    out = Path(args.out_dir) if args.out_dir else None
    rdir = (out / "runs") if (args.dry_run and out) else run_dir(args.name, args.dry_run)
    rdir.mkdir(parents=True, exist_ok=True)
    ckpt_path = rdir / "checkpoint.pt"

    if args.export:
        card = export(load_checkpoint(ckpt_path), args, out)
        print(f"exported {args.name}: {card['parameters']} parameters, {card['file_bytes']} bytes, "
              f"step {card['steps']}")
        return card

    torch.manual_seed(args.seed)
    cfg = {"z_dim": args.z_dim, "ngf": args.ngf, "ndf": args.ndf}
    G, D = build({**cfg, "net": "G"}), build({**cfg, "net": "D"})
    initialised_from = None
    if args.init and not args.resume:
        import genlib

        G_init, D_init = genlib.load(args.init, weights_dir=out), genlib.load(f"{args.init}-d", weights_dir=out)
        cfg = {k: G_init.card["config"][k] for k in ("z_dim", "ngf")} | {"ndf": D_init.card["config"]["ndf"]}
        G, D = build({**cfg, "net": "G"}), build({**cfg, "net": "D"})
        G.load_state_dict(G_init.state_dict()), D.load_state_dict(D_init.state_dict())
        initialised_from = {"name": args.init, "sha256": G_init.card["sha256"],
                            "images_seen": G_init.card.get("images_seen"), "wall_time_s": G_init.card.get("wall_time_s")}
    G_ema = copy.deepcopy(G).requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    fixed_noise = torch.randn(64, args.z_dim, generator=torch.Generator().manual_seed(1234))
    data_g = torch.Generator().manual_seed(args.seed)  # batches + augmentation, checkpointed
    step, images_seen, elapsed = 0, 0, 0.0
    command = command_string(args)
    if args.resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path)
        G.load_state_dict(ck["G"]), D.load_state_dict(ck["D"]), G_ema.load_state_dict(ck["G_ema"])
        opt_g.load_state_dict(ck["opt_g"]), opt_d.load_state_dict(ck["opt_d"])
        data_g.set_state(ck["data_rng"])
        initialised_from = ck.get("initialised_from")
        args.bf16 = ck.get("bf16", args.bf16)
        step, images_seen, elapsed = ck["step"], ck["images_seen"], ck["elapsed"]
        command = f"{ck['command']}  # then at step {step}: {command}"  # the card shows the whole history
        print(f"resumed from {ckpt_path} at step {step}")

    faces = load_training_faces(args)
    n_train = len(faces)
    steps_per_epoch = max(1, n_train // args.batch_size)
    recipe = {"loss": "non-saturating logistic", "D": "spectral norm, no BatchNorm", "G": "DCGAN, BatchNorm",
              "optimizer": f"Adam lr {args.lr} betas (0.5, 0.999), batch {args.batch_size}",
              "ema_decay": args.ema, "diffaugment": args.augment, "real_flip": True,
              "precision": "bfloat16 autocast" if args.bf16 else "float32",
              **({"initialised_from": initialised_from} if initialised_from else {})}

    def state():
        return dict(G=G.state_dict(), D=D.state_dict(), G_ema=G_ema.state_dict(), opt_g=opt_g.state_dict(),
                    opt_d=opt_d.state_dict(), data_rng=data_g.get_state(), step=step, images_seen=images_seen,
                    elapsed=elapsed, command=command, seed=args.seed, config=cfg, n_train=n_train, recipe=recipe,
                    bf16=args.bf16, initialised_from=initialised_from)

    def save_grid(tag):
        G_ema.eval()
        with torch.no_grad():
            imgs = ((G_ema(fixed_noise) + 1) / 2).clamp(0, 1)
        Image.fromarray(grid(imgs, nrow=8)).save(rdir / f"grid_{tag}.png")

    log = CsvLog(rdir / "losses.csv", ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "img_per_s", "elapsed_s"])
    progress = Progress(args.steps, start_step=step, every=30.0)
    print(f"training {args.name}: {n_train} faces, {steps_per_epoch} steps/epoch, G {sum(p.numel() for p in G.parameters())} "
          f"D {sum(p.numel() for p in D.parameters())} parameters, threads {torch.get_num_threads()}", flush=True)
    G.train(), D.train()
    t_start = time.time() - elapsed
    t_rate, n_rate = time.time(), 0
    while step < args.steps:
        idx = torch.randint(0, n_train, (args.batch_size,), generator=data_g)
        real = to_model_scale(faces[idx])
        flip = torch.rand(args.batch_size, generator=data_g) < 0.5
        real = torch.where(flip.view(-1, 1, 1, 1), real.flip(3), real)
        z = torch.randn(args.batch_size, args.z_dim, generator=data_g)

        # (1) Update D: maximise log D(x) + log(1 - D(G(z)))  ==  minimise softplus(-D(x)) + softplus(D(G(z)))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            fake = G(z)
            d_real = D(diff_augment(real, args.augment, data_g)).float()
            d_fake = D(diff_augment(fake.detach(), args.augment, data_g)).float()
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # (2) Update G: non-saturating, maximise log D(G(z)) (strong gradients while D still wins)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            d_gen = D(diff_augment(fake, args.augment, data_g)).float()
        loss_g = F.softplus(-d_gen).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        # EMA of G's weights; ramp the decay up so early averages do not drag in the random init
        with torch.no_grad():
            beta = min(args.ema, (1 + step) / (10 + step))
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.lerp_(p, 1 - beta)
            for be, b in zip(G_ema.buffers(), G.buffers()):
                be.copy_(b)  # BN statistics follow G during training (recomputed exactly on export)

        step += 1
        images_seen += args.batch_size
        n_rate += args.batch_size
        elapsed = time.time() - t_start
        if step % 10 == 0 or step == args.steps:
            rate = n_rate / max(time.time() - t_rate, 1e-9)
            t_rate, n_rate = time.time(), 0
            log.write(step=step, epoch=round(images_seen / n_train, 3), loss_d=round(loss_d.item(), 4),
                      loss_g=round(loss_g.item(), 4), d_real=round(torch.sigmoid(d_real).mean().item(), 4),
                      d_fake=round(torch.sigmoid(d_fake).mean().item(), 4), img_per_s=round(rate, 1),
                      elapsed_s=round(elapsed, 1))
        progress(step, loss_d=loss_d.item(), loss_g=loss_g.item(), epoch=images_seen / n_train)
        out_of_time = args.max_minutes and elapsed > args.max_minutes * 60
        if step % steps_per_epoch == 0 or step == args.steps or out_of_time:
            save_checkpoint(ckpt_path, **state())
            save_grid(f"step{step:06d}_epoch{images_seen / n_train:.2f}")
            G.train()
        if out_of_time:
            print(f"time limit of {args.max_minutes} min reached at step {step}", flush=True)
            break

    save_checkpoint(ckpt_path, **state())
    card = export(load_checkpoint(ckpt_path), args, out)
    print(f"done: step {step}, {elapsed / 60:.1f} min, wrote {args.name} ({card['file_bytes']} bytes)", flush=True)
    return card
