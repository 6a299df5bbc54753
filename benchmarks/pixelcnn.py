"""Naive vs fast exact PixelCNN completion: medians over repeats and their ratio.

    python benchmarks/pixelcnn.py [--threads 1] [--repeats 5] [--record]

Completes the bottom half (392 pixels) of 1 and of 8 shipped test digits with both samplers and the
same seed, checks the samples are identical, and prints the median wall time of each and naive / fast.
Uses weights/pixelcnn-mnist when installed, else an untrained model of the default shape (the timing
depends on the shape only). --record writes the figures into the model card (`benchmark`), which the
completion page quotes.
"""
from __future__ import annotations

import argparse
import sys
import time

import _timing  # noqa: F401  (puts the project root on sys.path)
from _timing import timed

import torch  # noqa: E402

import genlib  # noqa: E402
from genlib import data, pixelcnn  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5, help="repeats of the fast sampler")
    p.add_argument("--naive-repeats", type=int, default=3, help="repeats of the (slow) naive sampler")
    p.add_argument("--record", action="store_true", help="write the figures into weights/pixelcnn-mnist.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    try:
        model, what = genlib.load("pixelcnn-mnist"), "weights/pixelcnn-mnist"
    except genlib.WeightsError:
        model, what = pixelcnn.build({}).eval(), "an untrained default-shape model (no weights installed)"
    x_all, _ = data.demo_images("mnist")
    x_all = data.binarize(torch.from_numpy(x_all[:8])[:, None], torch.Generator().manual_seed(0))
    known = pixelcnn.make_mask("bottom", top=14)
    print(f"model: {what}, config {model.config}; {args.threads} thread(s); bottom half = 392 pixels")
    summary = []
    for n in (1, 8):
        x = x_all[:n]
        model.complete(x, known, seed=0)  # warm-up (allocations, kernels)
        t_fast, fast = timed(lambda: model.complete(x, known, seed=0, method="fast"), args.repeats)
        t_naive, naive = timed(lambda: model.complete(x, known, seed=0, method="naive"), args.naive_repeats)
        same = torch.equal(fast, naive)
        print(f"{n} image(s): naive median {t_naive:.3f} s ({args.naive_repeats} runs), fast median {t_fast:.3f} s "
              f"({args.repeats} runs), naive/fast = {t_naive / t_fast:.1f}x, identical samples: {same}",
              flush=True)
        if not same:
            sys.exit("fast and naive samples differ")
        summary.append(f"bottom half of {n} image(s): naive {t_naive:.3f} s, fast {t_fast:.3f} s "
                       f"({t_naive / t_fast:.1f}x)")
    if args.record and what.startswith("weights/"):
        command = "python benchmarks/pixelcnn.py " + " ".join(argv if argv is not None else sys.argv[1:])
        genlib.zoo.update_card("pixelcnn-mnist", benchmark={
            "command": command.strip(), "summary": "; ".join(summary) + "; identical samples (medians)",
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
        print("recorded in weights/pixelcnn-mnist.json", flush=True)


if __name__ == "__main__":
    main()
