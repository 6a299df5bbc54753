"""Train the PixelCNN on binarized MNIST -> weights/pixelcnn-mnist (python -m genlib.train pixelcnn).

The trainer is the one all autoregressive models share (genlib/train/autoregressive.py: dynamic
binarization, bf16 autocast, warm-up + cosine over a wall-time budget, EMA, --init, --export); this file
holds only the PixelCNN's shape options.

How the shipped 96 x 12 came about (docs/notes/issue-7.md): session 1's 48 x 6 flattened at ~90.6 nats
(train monitor) after 4 epochs, capacity-bound; 64 x 8 in fp32 reached 88.06 in 6 epochs; bf16 autocast made
every shape ~3x faster, which bought 96 x 8 ~17 epochs in 145 min (86.13 nats); that model, grown by 4
identity blocks (--init pixelcnn-mnist --add-blocks 4), trained 145 min more to 83.997 nats.
"""
from __future__ import annotations

from genlib.train import autoregressive

PUBLISHED = {"PixelCNN (van den Oord et al. 2016)": 81.30, "PixelRNN, Row LSTM/Diagonal BiLSTM (2016)": 79.20}
DRY_RUN_CONFIG = {"channels": 8, "blocks": 1, "head": 8, "hidden": None}


def add_arguments(p):
    autoregressive.add_arguments(p, default_name="pixelcnn-mnist")
    # Defaults None: the shipped shape, genlib.pixelcnn.DEFAULT_CONFIG (not imported here: --help stays torch-free)
    p.add_argument("--channels", type=int, default=None, help="residual stream width C (default: the shipped one)")
    p.add_argument("--hidden", type=int, default=None, help="width inside each block (default C/2, the paper's)")
    p.add_argument("--blocks", type=int, default=None,
                   help="residual blocks: receptive field 3 + blocks rows up (default: the shipped number)")
    p.add_argument("--head", type=int, default=None, help="width of the 1x1 output layer (default: the shipped one)")
    p.add_argument("--add-blocks", type=int, default=0, metavar="N",
                   help="with --init: append N residual blocks that start as the identity (output conv zero), so "
                        "training continues the installed model's exact function with more depth")


def model_config(args) -> dict:
    """The shape to train: the shipped one (genlib.pixelcnn.DEFAULT_CONFIG) with the options given."""
    from genlib import pixelcnn

    given = {k: getattr(args, k) for k in ("channels", "blocks", "head", "hidden") if getattr(args, k) is not None}
    return DRY_RUN_CONFIG if args.dry_run else {**pixelcnn.DEFAULT_CONFIG, **given}


def main(args):
    from genlib import pixelcnn

    return autoregressive.train(args, family="pixelcnn", build=pixelcnn.build, config=model_config(args),
                                published=PUBLISHED, add_blocks=args.add_blocks)
