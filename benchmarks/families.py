"""The four families side by side in one run: time to sample one image, and training images/s; medians, ratios.

    python benchmarks/families.py [--threads 1] [--repeats 20] [--steps 8] [--batch 64] [--record]

Models: flow-mnist8 (one pass of f^-1), the 8-bit PixelCNN++ pixelcnnpp-mnist8 when installed, else the
binarized pixelcnn-mnist with its exact fast sampler (784 pixels one after another), vae-mnist8 (one pass of
the decoder) and gan-faces (one pass of G). A model that is not installed is skipped and said so.
  sampling: one image from a fresh seed, median over --repeats after 2 warm-up calls;
  training: full training steps of the family's trainer (loss, backward, Adam) on --batch images, median over
    --steps after 2 warm-up steps (flow, PixelCNN and GAN in bfloat16 autocast as their trainers run them).
--record writes each model's figures into its card (genlib.families.BENCHMARK_KEY); the flow page's
four-family table reads them from there. Run it on an idle machine: timings beside a training are worthless.
"""
from __future__ import annotations

import copy
import sys
import time

import _timing  # noqa: F401  (puts the project root on sys.path)
from _timing import images_per_second, median_ms, model_benchmark_parser

import torch  # noqa: E402

import genlib  # noqa: E402
from genlib import data, pixelcnn  # noqa: E402
from genlib.families import BENCHMARK_KEY, FAMILIES  # noqa: E402


def digits(batch: int):
    """The shipped demo test digits as grey levels [batch,1,28,28] (repeated to fill the batch)."""
    x = torch.from_numpy(data.demo_images("mnist")[0]).float()[:, None]
    return x.repeat(-(-batch // len(x)), 1, 1, 1)[:batch]


def adam_rate(net, loss_fn, batch: int):
    """steps -> median images/s of optimizer steps of loss_fn(copy of net) on `batch` images (net untouched)."""
    net = copy.deepcopy(net).train().requires_grad_(True)
    opt = torch.optim.Adam(net.parameters(), 1e-4)

    def step():
        loss = loss_fn(net)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lambda steps: images_per_second(step, batch, steps)


# Each family: model, batch -> (sample(): one image from a fresh seed, rate(steps): training images/s)
def flow_work(model, batch):
    x, seeds = digits(batch), iter(range(10**6))

    def loss(net):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return -net.dequantized_log_prob(x).mean()  # with the dequantizer's own cost, where it has one
    return lambda: model.sample(1, seed=next(seeds)), adam_rate(model, loss, batch)


def pixelcnn_work(model, batch):
    seeds = iter(range(10**6))
    if hasattr(model, "sample"):  # the 8-bit PixelCNN++, trained in bfloat16 autocast as its trainer does
        from genlib.train.pixelcnnpp import exact_loss

        x = digits(batch)

        def exact(net):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return exact_loss(net, x, None)
        return lambda: model.sample(1, seed=next(seeds)), adam_rate(model, exact, batch)
    x = data.binarize(digits(batch) / 255, torch.Generator().manual_seed(0))
    empty, unknown = torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 28, 28, dtype=torch.bool)

    def loss(net):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return pixelcnn.bernoulli_nll(net(x), x).mean()
    return lambda: model.complete(empty, unknown, seed=next(seeds)), adam_rate(model, loss, batch)


def vae_work(model, batch):
    x, g = digits(batch), torch.Generator().manual_seed(0)
    return (lambda: model.decode(torch.randn(1, model.z_dim, generator=g)),
            adam_rate(model, lambda net: -net.elbo(x, g).mean(), batch))


def gan_work(model, batch):
    """Training: the GAN trainer's step as benchmarks/gan_training.py times it, in the recipe of the model's card."""
    from gan_training import images_per_second as gan_images_per_second

    seeds, config, recipe = iter(range(10**6)), model.card["config"], model.card.get("training", {})
    return (lambda: model.sample(1, seed=next(seeds)),
            lambda steps: gan_images_per_second(config.get("ngf", 32), recipe.get("precision") != "float32",
                                                recipe.get("diffaugment", "none"), steps + 2, batch,
                                                config.get("upsample", "transposed")))


WORK = {"flow-mnist8": flow_work, "pixelcnnpp-mnist8": pixelcnn_work, "vae-mnist8": vae_work,
        "gan-faces": gan_work}  # by each family's model in genlib.families.FAMILIES


def installed(*names):
    """The first of `names` that loads, as (name, model); None when none does (and it says why)."""
    for name in names:
        try:
            return name, genlib.load(name)
        except genlib.WeightsError as e:
            print(f"{name}: not installed ({str(e).split('.')[0]})", flush=True)
    return None


def main(argv=None):
    parser = model_benchmark_parser(__doc__.splitlines()[0], 20, "timed samples per model (after 2 warm-up)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s); sampling: median of {args.repeats} single images; training: batch "
          f"{args.batch}, median of {args.steps} steps", flush=True)
    results = {}
    for fam in FAMILIES:  # the flow page's families: each one's model, or its stand-in
        found = installed(fam["model"], *filter(None, [fam.get("stand_in")]))
        if found is None:
            continue
        name, model = found
        family = fam["family"]
        sample, rate = WORK[fam["model"]](model, args.batch)
        with torch.inference_mode():
            sample_ms = median_ms(sample, args.repeats)
        train = rate(args.steps)
        results[name] = {"family": family, "sample_ms_per_image": sample_ms, "train_images_per_s": train}
        print(f"{family:28s} {name:18s} sample one image {sample_ms:9.2f} ms   training {train:7.1f} img/s",
              flush=True)
    if "flow-mnist8" in results:
        base = results["flow-mnist8"]
        print("\nratios to the flow")
        for name, r in results.items():
            print(f"{name:18s} sampling {r['sample_ms_per_image'] / base['sample_ms_per_image']:8.2f}x the time, "
                  f"training {r['train_images_per_s'] / base['train_images_per_s']:.2f}x the img/s")
    if args.record:
        command = "python benchmarks/families.py " + " ".join(argv if argv is not None else sys.argv[1:])
        for name, r in results.items():
            genlib.zoo.update_card(name, **{BENCHMARK_KEY: {
                "command": command.strip(), "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "threads": args.threads, "batch": args.batch,
                "sample_ms_per_image": round(r["sample_ms_per_image"], 3),
                "train_images_per_s": round(r["train_images_per_s"], 1)}})
            print(f"recorded in {genlib.zoo.WEIGHTS_DIR / name}.json", flush=True)


if __name__ == "__main__":
    main()
