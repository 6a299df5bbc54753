"""Face GAN training throughput: float32 vs bfloat16 autocast, with and without DiffAugment, side by side.

    python benchmarks/gan_training.py [--threads 1] [--steps 8] [--batch 64] [--ngf 32]

Times whole training steps (D update, G update, as in genlib/train/gan.py) on random images and prints
the median images/s of each setting and its ratio to plain float32 (after 2 warm-up steps).
Run it on an idle machine: a training beside it halves both.
"""
from __future__ import annotations

import argparse

import _timing  # puts the project root on sys.path
import torch
import torch.nn.functional as F

from genlib.gan import build
from genlib.train.gan import diff_augment


def images_per_second(ngf: int, bf16: bool, augment: str, steps: int, batch: int) -> float:
    torch.manual_seed(0)
    G, D = build({"net": "G", "ngf": ngf}), build({"net": "D", "ndf": ngf})
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 3, 64, 64) * 2 - 1

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            fake = G(torch.randn(batch, G.z_dim))
            loss_d = (F.softplus(-D(diff_augment(real, augment))).float().mean()
                      + F.softplus(D(diff_augment(fake.detach(), augment))).float().mean())
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss_g = F.softplus(-D(diff_augment(fake, augment))).float().mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return _timing.images_per_second(step, batch, steps - 2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--ngf", type=int, nargs="+", default=[32])
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s), batch {args.batch}, median of {args.steps - 2} steps")
    for ngf in args.ngf:
        base = None
        for bf16 in (False, True):
            for augment in ("none", "translation", "color,translation"):
                rate = images_per_second(ngf, bf16, augment, args.steps, args.batch)
                base = base or rate
                print(f"ngf=ndf={ngf} {'bf16' if bf16 else 'fp32'} augment={augment:18s} {rate:6.1f} img/s "
                      f"({rate / base:.2f}x fp32 no-augment)", flush=True)


if __name__ == "__main__":
    main()
