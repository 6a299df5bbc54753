"""PixelCNN training throughput, float32 vs bfloat16 autocast, side by side in one process.

    python benchmarks/pixelcnn_training.py [--threads 2] [--steps 6] [--batch 64]

For each shape, times full training steps (forward, float32 loss, backward, Adam) on random binary
images and prints the median images/s of each precision and their ratio (the first 2 steps are warm-up).
"""
from __future__ import annotations

import argparse

import _timing  # puts the project root on sys.path
import torch

from genlib import pixelcnn

SHAPES = [dict(channels=64, blocks=8, head=64, hidden=32), dict(channels=96, blocks=8, head=96, hidden=48),
          dict(channels=128, blocks=8, head=128, hidden=64)]


def images_per_second(config: dict, bf16: bool, steps: int, batch: int) -> float:
    torch.manual_seed(0)
    model = pixelcnn.build(config)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = (torch.rand(batch, 1, 28, 28) < 0.2).float()

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = pixelcnn.bernoulli_nll(logits, x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return _timing.images_per_second(step, batch, steps - 2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s), batch {args.batch}, median of {args.steps - 2} steps")
    for config in SHAPES:
        fp32 = images_per_second(config, False, args.steps, args.batch)
        bf16 = images_per_second(config, True, args.steps, args.batch)
        print(f"{config}: fp32 {fp32:.0f} img/s, bf16 autocast {bf16:.0f} img/s, bf16/fp32 = {bf16 / fp32:.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
