"""Train the reversible flow on 8-bit MNIST -> weights/flow-mnist8 (python -m genlib.train flow).

    python -m genlib.train flow --threads 1 --minutes 112          # a new flow, uniform dequantization
    python -m genlib.train flow --threads 1 --resume                # continue runs/flow-mnist8
    python -m genlib.train flow --threads 1 --init flow-mnist8 --minutes 60   # continue on a new machine
    python -m genlib.train flow --threads 1 --init flow-mnist8 --dequantizer variational --lr 5e-4 --minutes 95
                                                                    # ... and add a learned dequantizer (shipped)
    python -m genlib.train flow --export [--eval-k 8]               # evaluate the checkpoint, write weights + card

Training maximises the dequantized log-likelihood: every time an image is used it gets a fresh noise u in
[0,1)^784 (v = x + u), uniform or drawn from the learned q(u|x), and the loss is -(log p(v) - log q(u|x)) in
bits/dim (log q = 0 for uniform noise). The rest is the 8-bit trainer's
(genlib/train/levels.py): warm-up, then a cosine to 0 over the wall-time budget, the coupling networks in
bfloat16 autocast (--no-bf16: float32; the invertible layers, log-dets and every evaluation stay float32), the EMA
or the raw weights, whichever scores better on 2,000 training images, is exported. The test figure is the
bound on all 10,000 MNIST test images with one u per image (seed 0); --eval-k K adds the importance-weighted
bound over K draws per image (tighter, as the VAE's).
"""
from __future__ import annotations

import math

from genlib.train import levels

PUBLISHED_BITS_PER_DIM = {"RealNVP (Dinh et al. 2017)": 1.06, "Glow (Kingma & Dhariwal 2018)": 1.05,
                          "FFJORD (Grathwohl et al. 2019)": 0.99}
DATASET = ("8-bit grey levels 0..255, dequantized: a fresh u in [0,1) per pixel each time an image is used, uniform or "
           "drawn from the learned q(u|x), as config.dequantizer says")
EVAL_SET = ("MNIST test set, 8-bit; dequantization bound, one u per image (seed 0 + batch offset) from "
            "config.dequantizer; test_bits_per_dim_importance_weighted: k draws per image")
DRY_RUN_CONFIG = {"steps": 1, "hidden": 8}


def add_arguments(p):
    levels.add_arguments(p, default_name="flow-mnist8", default_minutes=112)
    p.add_argument("--flow-steps", type=int, default=None, help="flow steps per scale (default: the shipped config)")
    p.add_argument("--hidden", type=int, default=None, help="channels of each coupling network")
    p.add_argument("--logit-alpha", type=float, default=None,
                   help="logit transform of the pixels with this alpha (0: none, pixels centred instead)")
    p.add_argument("--dequantizer", choices=["uniform", "variational"], default=None,
                   help="the noise that makes pixels continuous: uniform, or a learned q(u|x) (Flow++); with --init, "
                        "'variational' adds a new dequantizer to the installed flow")
    p.add_argument("--deq-hidden", type=int, default=None, help="channels of the variational dequantizer's networks")
    p.add_argument("--eval-k", type=int, default=1,
                   help="noise draws per test image for the importance-weighted bound (1: the plain bound only)")


def model_config(args) -> dict:
    from genlib import flow

    given = {"steps": args.flow_steps, "hidden": args.hidden, "logit_alpha": args.logit_alpha,
             "dequantizer": args.dequantizer, "deq_hidden": args.deq_hidden}
    config = {**flow.DEFAULT_CONFIG, **{k: v for k, v in given.items() if v is not None}}
    return {**config, **DRY_RUN_CONFIG} if args.dry_run else config


def dequantized_loss(model, x, rng):
    """-(log p(x + u) - log q(u | x)) in bits/dim with a fresh u per image (uniform, or drawn from q)."""
    from genlib.flow import D

    return -model.dequantized_log_prob(x, rng).mean() / (D * math.log(2))


def added_parts(args) -> dict | None:
    """With --init, the config keys that grow the installed flow: a new variational dequantizer."""
    if args.dequantizer != "variational":
        return None
    return {"dequantizer": "variational", **({"deq_hidden": args.deq_hidden} if args.deq_hidden else {})}


def actnorm_init(model, x_train):
    """Actnorm's data-dependent initialisation, on a larger batch than one step's."""
    import torch

    model.forward_continuous(x_train[:512] + torch.rand(x_train[:512].shape))


def main(args):
    from genlib import flow

    # flows spike now and then: a tighter gradient clip than the autoregressive models'
    return levels.train(args, family="flow", build=flow.build, config=model_config(args), loss=dequantized_loss,
                        clip=50.0, published=PUBLISHED_BITS_PER_DIM, dataset=DATASET, eval_set=EVAL_SET,
                        prepare=actnorm_init, extend=added_parts(args))
