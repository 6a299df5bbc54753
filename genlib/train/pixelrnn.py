"""Train a PixelRNN on binarized MNIST: `python -m genlib.train pixelrnn --variant row|diag ...`
-> weights/pixelrnn-row-mnist or weights/pixelrnn-diag-mnist.

The trainer all autoregressive models share (genlib/train/autoregressive.py: dynamic binarization, bf16
autocast of the convs with float32 gates/loss/evaluation, warm-up + cosine over a wall-time budget, EMA,
checkpoints, --resume, --init, --export, --dry-run, the standard test NLL in the card); only the model differs.
Shapes, measured on this 2-core CPU with one thread, batch 64, bf16 (issue 12): Row LSTM h=32 x 4 layers
~95 img/s. Diagonal BiLSTM: h=16 x 7 layers 22 img/s, h=32 x 3 18, x 2 33, x 1 72. Its default is the
paper's one-layer h=32 model (Table 4: 80.75 nats against 79.20 for 7 layers of h=16): one layer already
sees every earlier pixel, and on one CPU thread it sees 3.3x the images of the 7-layer model in the same time.
"""
from __future__ import annotations

from genlib.train import autoregressive

SHAPES = {"row": {"hidden": 32, "layers": 4, "head": 64}, "diag": {"hidden": 32, "layers": 1, "head": 64}}


def add_arguments(p):
    autoregressive.add_arguments(p, default_name=None)
    p.add_argument("--variant", choices=sorted(SHAPES), default="row",
                   help="row: Row LSTM (triangular context, parallel along a row); diag: Diagonal BiLSTM (full "
                        "context, sequential along diagonals)")
    p.add_argument("--hidden", type=int, default=None, help="LSTM units h (the residual stream has 2h); "
                                                            "default: row 32, diag 32")
    p.add_argument("--layers", type=int, default=None, help="LSTM layers; default: row 4, diag 1")
    p.add_argument("--head", type=int, default=64, help="width of the 1x1 output layer")


def main(args):
    from genlib import pixelrnn

    args.name = args.name or f"pixelrnn-{args.variant}-mnist"
    shape = SHAPES[args.variant]
    config = {"variant": args.variant, "hidden": args.hidden or shape["hidden"],
              "layers": args.layers or shape["layers"], "head": args.head}
    if args.dry_run:
        config = {"variant": args.variant, "hidden": 4, "layers": 1, "head": 8}
    return autoregressive.train(args, family="pixelrnn", build=pixelrnn.build, config=config,
                                published=pixelrnn.PUBLISHED_NLL)
