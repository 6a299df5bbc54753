"""Train the PixelCNN with the slide's switches on 8-bit MNIST -> weights/pixelcnnpp-mnist8
(python -m genlib.train pixelcnnpp).

    python -m genlib.train pixelcnnpp --threads 1 --minutes 130                # the shipped configuration
    python -m genlib.train pixelcnnpp --threads 1 --block relu --no-shortcuts --head softmax --single-scale \
        --dropout 0 --ema 0 --name ablation-0 --out-dir runs/ablation --minutes 15   # the ablation's baseline
    python benchmarks/pixelcnnpp_ablation.py --train                             # every ablation row, then the table

The loss is -log P(x) of the integer images in bits/dim (exact: no dequantization); the rest is the 8-bit
trainer's (genlib/train/levels.py): warm-up + cosine over the wall-time budget, bfloat16 autocast, EMA,
checkpoints, --resume, --init, --export.
"""
from __future__ import annotations

import argparse
import math

from genlib.train import levels

PUBLISHED_BITS_PER_DIM = {"RealNVP (Dinh et al. 2017), dequantized": 1.06, "Glow (Kingma & Dhariwal 2018)": 1.05,
                          "FFJORD (Grathwohl et al. 2019)": 0.99}
DATASET = "8-bit grey levels 0..255, modelled as they are (discrete)"
EVAL_SET = "MNIST test set, 8-bit; exact log-likelihood"
DRY_RUN_CONFIG = {"channels": 8, "layers": 1}


def add_arguments(p):
    levels.add_arguments(p, default_name="pixelcnnpp-mnist8", default_minutes=120)
    p.add_argument("--channels", type=int, default=None, help="channels of every block (default: the shipped ones)")
    p.add_argument("--layers", type=int, default=None,
                   help="blocks: on one scale in all, on several scales per stage (default: the shipped number)")
    p.add_argument("--head", choices=("softmax", "logistic"), default=None,
                   help="output: 256-way softmax, or a mixture of discretized logistics")
    p.add_argument("--mixtures", type=int, default=None, help="logistic components per pixel")
    p.add_argument("--block", choices=("relu", "gated"), default=None, help="ReLU or gated blocks")
    p.add_argument("--shortcuts", action=argparse.BooleanOptionalAction, default=None,
                   help="residual and skip connections")
    p.add_argument("--multiscale", action=argparse.BooleanOptionalAction, default=None,
                   help="PixelCNN++'s down/up-sampling streams (--no-multiscale: masked convolutions at 28x28)")
    p.add_argument("--dropout", type=float, default=None, help="dropout rate inside the blocks")


def model_config(args) -> dict:
    from genlib import pixelcnnpp

    keys = ("channels", "layers", "head", "mixtures", "block", "shortcuts", "multiscale", "dropout")
    config = {**pixelcnnpp.DEFAULT_CONFIG, **{k: getattr(args, k) for k in keys if getattr(args, k) is not None}}
    return {**config, **DRY_RUN_CONFIG} if args.dry_run else config


def exact_loss(model, x, rng):
    """-log P(x) in bits/dim of the batch's integer images."""
    return -model.pixel_log_probs(model(x), x).flatten(1).sum(1).mean() / (levels.D * math.log(2))


def main(args):
    from genlib import pixelcnnpp

    return levels.train(args, family="pixelcnnpp", build=pixelcnnpp.build, config=model_config(args), loss=exact_loss,
                        clip=100.0, published=PUBLISHED_BITS_PER_DIM, dataset=DATASET, eval_set=EVAL_SET)
