"""PixelRNN vs PixelCNN in one run: training throughput, and sampling time naive vs fast; medians, ratios.

    python benchmarks/autoregressive.py [--threads 1] [--steps 8] [--batch 64] [--repeats 5]
                                        [--naive-repeats 3] [--record]

For the PixelCNN, the Row LSTM and the Diagonal BiLSTM (weights/<name> when installed; else an untrained
model of the trainer's default shape, and it says so: the timings depend on the shape only):
  training: images/s of full training steps (bf16 autocast forward, float32 loss, backward, Adam) on a
    batch of binarized test digits, median over --steps after 2 warm-up steps;
  sampling: one full image (784 pixels from the corner) and the bottom half of one test digit (392 pixels),
    naive (the whole network per pixel) and fast (the exact cached sampler), same seed, median over repeats;
    the two samplers must give identical pixels.
Prints one table and the ratios: fast vs naive per model, each model vs the PixelCNN. --record writes the
figures into each installed model's card (genlib.autoregressive.BENCHMARK_KEY), which the page
"PixelRNN vs PixelCNN" shows next to the lecture's claims. Run it on an idle machine: timings taken while
trainings run are worthless.
"""
from __future__ import annotations

import copy
import statistics
import sys
import time

import _timing  # noqa: F401  (puts the project root on sys.path)
from _timing import model_benchmark_parser, timed

import torch  # noqa: E402

import genlib  # noqa: E402
from genlib import autoregressive as ar  # noqa: E402
from genlib import data, pixelcnn, pixelrnn  # noqa: E402
from genlib.train.pixelrnn import SHAPES  # noqa: E402


def load(short: str):
    """(model, where it comes from, installed?) for one of ar.MODELS."""
    name = ar.MODELS[short][0]
    try:
        return genlib.load(name), f"weights/{name}", True
    except genlib.WeightsError as e:
        print(f"{name}: not installed ({str(e).split('.')[0]}); timing an untrained default-shape model instead")
    model = pixelcnn.build({}) if short == "cnn" else pixelrnn.build({"variant": short, **SHAPES[short]})
    return model.eval().requires_grad_(False), "untrained, default shape", False


def training_images_per_second(model, images, steps: int) -> float:
    """Median images/s of full bf16 training steps on a copy of `model` (the loaded one stays untouched)."""
    net = copy.deepcopy(model).train().requires_grad_(True)
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    times = []
    for _ in range(steps + 2):  # the first 2: warm-up (allocations, kernel selection)
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = net(images)
        loss = pixelcnn.bernoulli_nll(logits, images).mean()  # float32, as the trainer computes it
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return len(images) / statistics.median(times[2:])


def sampling_times(model, digit, repeats: int, naive_repeats: int) -> tuple[dict, bool]:
    """({full_naive_s, full_fast_s, bottom_naive_s, bottom_fast_s}, identical samples)."""
    tasks = {"full": (torch.zeros_like(digit), torch.zeros(1, 1, 28, 28, dtype=torch.bool)),
             "bottom": (digit, pixelcnn.make_mask("bottom", top=14))}
    out, same = {}, True
    for task, (x, known) in tasks.items():
        model.complete(x, known, seed=0)  # warm-up
        out[f"{task}_fast_s"], fast = timed(lambda: model.complete(x, known, seed=0, method="fast"), repeats)
        out[f"{task}_naive_s"], naive = timed(lambda: model.complete(x, known, seed=0, method="naive"), naive_repeats)
        same &= torch.equal(fast, naive)
    return out, same


def main(argv=None):
    p = model_benchmark_parser(__doc__.splitlines()[0], 5, "repeats of the fast sampler")
    p.add_argument("--naive-repeats", type=int, default=3, help="repeats of the (slow) naive sampler")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    x, _ = data.demo_images("mnist")
    digits = data.binarize(torch.from_numpy(x[:args.batch])[:, None], torch.Generator().manual_seed(0))
    digits = digits.repeat(-(-args.batch // len(digits)), 1, 1, 1)[:args.batch]
    print(f"{args.threads} thread(s); training: batch {args.batch}, median of {args.steps} bf16 steps; sampling: "
          f"median of {args.repeats} fast / {args.naive_repeats} naive runs, one image", flush=True)
    results = {}
    for short, (name, title) in ar.MODELS.items():
        model, where, installed = load(short)
        figures = {"train_images_per_s": training_images_per_second(model, digits, args.steps)}
        times, same = sampling_times(model, digits[:1], args.repeats, args.naive_repeats)
        figures |= times
        results[short] = (figures, installed)
        print(f"{title} ({where}, {model.config}): " + ", ".join(
            f"{ar.TIMINGS[k]} {v:.4g}" for k, v in figures.items()) + f"; identical samples: {same}", flush=True)
        if not same:
            sys.exit(f"{title}: fast and naive samples differ")

    print("\nratios")
    cnn = results["cnn"][0]
    for short, (f, _) in results.items():
        title = ar.MODELS[short][1]
        line = (f"{title}: fast vs naive {f['full_naive_s'] / f['full_fast_s']:.1f}x (full image), "
                f"{f['bottom_naive_s'] / f['bottom_fast_s']:.1f}x (bottom half)")
        if short != "cnn":
            line += (f"; vs PixelCNN: training {f['train_images_per_s'] / cnn['train_images_per_s']:.2f}x its img/s, "
                     + ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {f[k] / cnn[k]:.2f}x the time"
                                 for k in ("full_naive_s", "full_fast_s", "bottom_naive_s", "bottom_fast_s")))
        print(line, flush=True)

    if args.record:
        command = "python benchmarks/autoregressive.py " + " ".join(argv if argv is not None else sys.argv[1:])
        for short, (f, installed) in results.items():
            name = ar.MODELS[short][0]
            if not installed:
                print(f"{name}: not installed, nothing recorded")
                continue
            genlib.zoo.update_card(name, **{ar.BENCHMARK_KEY: {
                "command": command.strip(), "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "threads": args.threads, "batch": args.batch, "identical_samples": True,
                **{k: round(v, 5) for k, v in f.items()}}})
            print(f"recorded in {genlib.zoo.WEIGHTS_DIR / name}.json", flush=True)


if __name__ == "__main__":
    main()
