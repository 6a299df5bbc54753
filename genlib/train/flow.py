"""Train the reversible flow on 8-bit MNIST -> weights/flow-mnist8 (python -m genlib.train flow).

    python -m genlib.train flow --threads 1 --minutes 112          # the shipped run (its card has the command)
    python -m genlib.train flow --threads 1 --resume                # continue runs/flow-mnist8
    python -m genlib.train flow --threads 1 --init flow-mnist8 --minutes 60   # continue on a new machine
    python -m genlib.train flow --export                            # evaluate the checkpoint, write weights + card

Training maximises the dequantized log-likelihood: every time an image is used it gets a fresh uniform noise
u ~ U[0,1)^784 (v = x + u), and the loss is -log p(v) in bits/dim. The rest is the 8-bit trainer's
(genlib/train/levels.py): warm-up, then a cosine to 0 over the wall-time budget, the coupling networks in
bfloat16 autocast (--no-bf16: float32; the invertible layers, log-dets and every evaluation stay float32), the EMA
or the raw weights, whichever scores better on 2,000 training images, is exported. The test figure is the
bound on all 10,000 MNIST test images with one u per image (seed 0).
"""
from __future__ import annotations

import math

from genlib.train import levels

PUBLISHED_BITS_PER_DIM = {"RealNVP (Dinh et al. 2017)": 1.06, "Glow (Kingma & Dhariwal 2018)": 1.05,
                          "FFJORD (Grathwohl et al. 2019)": 0.99}
DATASET = "8-bit grey levels 0..255, uniform dequantization (a fresh u ~ U[0,1) per pixel each time an image is used)"
EVAL_SET = "MNIST test set, 8-bit; dequantization bound, one uniform u per image (seed 0 + batch offset)"
DRY_RUN_CONFIG = {"steps": 1, "hidden": 8}


def add_arguments(p):
    levels.add_arguments(p, default_name="flow-mnist8", default_minutes=112)
    p.add_argument("--flow-steps", type=int, default=None, help="flow steps per scale (default: the shipped config)")
    p.add_argument("--hidden", type=int, default=None, help="channels of each coupling network")
    p.add_argument("--logit-alpha", type=float, default=None,
                   help="logit transform of the pixels with this alpha (0: none, pixels centred instead)")


def model_config(args) -> dict:
    from genlib import flow

    given = {"steps": args.flow_steps, "hidden": args.hidden, "logit_alpha": args.logit_alpha}
    config = {**flow.DEFAULT_CONFIG, **{k: v for k, v in given.items() if v is not None}}
    return {**config, **DRY_RUN_CONFIG} if args.dry_run else config


def dequantized_loss(model, x, rng):
    """-log p(x + u) in bits/dim with a fresh u ~ U[0,1)^784 per image."""
    import torch

    from genlib.flow import D

    v = x + torch.rand(x.shape, generator=rng)                         # [B,1,28,28] dequantized
    return -model.log_density(v).mean() / (D * math.log(2))


def actnorm_init(model, x_train):
    """Actnorm's data-dependent initialisation, on a larger batch than one step's."""
    import torch

    model.forward_continuous(x_train[:512] + torch.rand(x_train[:512].shape))


def main(args):
    from genlib import flow

    # flows spike now and then: a tighter gradient clip than the autoregressive models'
    return levels.train(args, family="flow", build=flow.build, config=model_config(args), loss=dequantized_loss,
                        clip=50.0, published=PUBLISHED_BITS_PER_DIM, dataset=DATASET, eval_set=EVAL_SET,
                        prepare=actnorm_init)
