"""Face GAN training throughput: float32 vs bfloat16 autocast, with and without DiffAugment, side by side.

    python benchmarks/gan_training.py [--threads 1] [--steps 8] [--batch 64] [--ngf 32] [--upsample transposed nearest]

Times whole training steps (D update, G update, as in genlib/train/gan.py) on random images and prints
the median images/s of each setting and its ratio to plain float32 (after 2 warm-up steps).
Run it on an idle machine: a training beside it halves both.
"""
from __future__ import annotations

import argparse

import _timing  # puts the project root on sys.path
import torch

from types import SimpleNamespace

from genlib.gan import build
from genlib.train.gan import gan_step


def images_per_second(ngf: int, bf16: bool, augment: str, steps: int, batch: int,
                      upsample: str = "transposed") -> float:
    """Median images/s of the trainer's own step (genlib.train.gan.gan_step) on random images."""
    torch.manual_seed(0)
    G, D = build({"net": "G", "ngf": ngf, "upsample": upsample}), build({"net": "D", "ndf": ngf})
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    real, settings = torch.rand(batch, 3, 64, 64) * 2 - 1, SimpleNamespace(bf16=bf16, augment=augment)
    return _timing.images_per_second(lambda: gan_step(G, D, opt_g, opt_d, real, torch.randn(batch, G.z_dim),
                                                      settings, None), batch, steps - 2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--ngf", type=int, nargs="+", default=[32])
    p.add_argument("--upsample", nargs="+", choices=["transposed", "nearest"], default=["transposed"])
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s), batch {args.batch}, median of {args.steps - 2} steps")
    for ngf in args.ngf:
        base = None
        for upsample in args.upsample:
            for bf16 in (False, True):
                for augment in ("none", "translation", "color,translation"):
                    rate = images_per_second(ngf, bf16, augment, args.steps, args.batch, upsample)
                    base = base or rate
                    print(f"ngf=ndf={ngf} {upsample:10s} {'bf16' if bf16 else 'fp32'} augment={augment:18s} "
                          f"{rate:6.1f} img/s ({rate / base:.2f}x the first row)", flush=True)


if __name__ == "__main__":
    main()
