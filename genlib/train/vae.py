"""Train the VAEs and the plain autoencoder: python -m genlib.train vae --name <model> [...]

    python -m genlib.train vae --name vae-mnist --threads 1        # 2-D latent, the explorer's map
    python -m genlib.train vae --name vae-mnist-32 --threads 1     # 32-D latent, the quality model
    python -m genlib.train vae --name vae-mnist-32 --eval-only     # re-measure a card's test metrics

`--name` picks the dataset, latent size and model kind (table NAMES); flags override it.
Training uses dynamic binarization (a fresh Bernoulli sample of every image each time it is seen);
the test metrics use the standard set of ARCHITECTURE.md (the 10,000 test images binarized once, seed 0).
"""
from __future__ import annotations

import math
import time

from genlib.train.common import Progress, Run, add_common_arguments, command_string, grey_levels, real_or_synthetic

# Per-model defaults. 469 steps of 128 images = one epoch of the 60,000 training images.
NAMES = {
    "vae-mnist": dict(dataset="mnist", kind="vae", z_dim=2, enc_ch=16, dec_ch=8, hidden=256, steps=4000),
    "vae-fashion": dict(dataset="fashion", kind="vae", z_dim=2, enc_ch=16, dec_ch=8, hidden=256, steps=2500),
    "ae-mnist": dict(dataset="mnist", kind="ae", z_dim=2, enc_ch=16, dec_ch=8, hidden=256, steps=2500),
    # The quality model: a two-stage decoder (7x7 -> 14x14 -> 28x28) and 96 epochs (docs/notes/issue-6.md).
    "vae-mnist-32": dict(dataset="mnist", kind="vae", z_dim=32, enc_ch=16, dec_ch=16, hidden=256, dec_stages=2,
                         steps=45000, kl_warmup=2000),
    # The 8-bit model of the four-family table (pages/flow.py): the quality model's shape, with a discretized
    # logistic per pixel on the grey levels 0..255 instead of a Bernoulli on binarized pixels.
    "vae-mnist8": dict(dataset="mnist", kind="vae", z_dim=32, enc_ch=16, dec_ch=16, hidden=256, dec_stages=2,
                       likelihood="logistic", steps=20000, kl_warmup=2000),
}
FALLBACK = NAMES["vae-mnist"]  # for a new name that is not in the table
LICENCES = {
    "mnist": "MNIST (LeCun, Cortes, Burges): no stated licence, NIST-derived US Government works; "
             "commonly listed as CC BY-SA 3.0. See ../shared/data/PROVENANCE.md.",
    "fashion": "Fashion-MNIST (Zalando Research): MIT. See ../shared/data/PROVENANCE.md.",
}
PUBLISHED = {  # Burda, Grosse, Salakhutdinov 2015, Table 1: MNIST test NLL, one stochastic layer
    "VAE (Burda et al. 2015, 1 stochastic layer, k=1)": 86.76,
    "IWAE (Burda et al. 2015, 1 stochastic layer, k=50)": 84.78,
}


def add_arguments(p):
    add_common_arguments(p, default_name="vae-mnist", default_steps=None, default_batch=128)
    p.add_argument("--dataset", choices=["mnist", "fashion"], default=None)
    p.add_argument("--kind", choices=["vae", "ae"], default=None, help="vae, or ae (plain autoencoder)")
    p.add_argument("--z-dim", type=int, default=None)
    p.add_argument("--enc-ch", type=int, default=None)
    p.add_argument("--dec-ch", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--likelihood", choices=["bernoulli", "logistic"], default=None,
                   help="p(x|z): bernoulli on binarized pixels, or logistic (discretized) on 8-bit grey levels")
    p.add_argument("--dec-stages", type=int, choices=[1, 2], default=None,
                   help="decoder upsampling: 1 (7x7 -> 28x28) or 2 (7x7 -> 14x14 -> 28x28)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam; decays to 0 on a cosine over --steps")
    p.add_argument("--kl-warmup", type=int, default=None,
                   help="steps over which the KL weight rises 0 -> 1 (keeps latent units from collapsing)")
    p.add_argument("--iw-k", type=int, default=1, help="train on the importance-weighted bound with k samples")
    p.add_argument("--eval-k", type=int, default=1000, help="importance samples for the test log p(x)")
    p.add_argument("--eval-n", type=int, default=None,
                   help="evaluate every (10000/N)-th test image, N in all (default: all 10,000)")
    p.add_argument("--eval-jobs", type=int, default=1,
                   help="processes (one thread each) that share the log p(x) estimate")
    p.add_argument("--no-eval", action="store_true", help="skip the test metrics after training")
    p.add_argument("--eval-only", action="store_true", help="measure the saved model's test metrics; no training")


def settings(args) -> dict:
    """The table's defaults for --name, overridden by any flag given."""
    s = dict(NAMES.get(args.name, FALLBACK))
    s.setdefault("kl_warmup", 0)
    s.setdefault("dec_stages", 1)
    s.setdefault("likelihood", "bernoulli")
    for key in ("dataset", "kind", "z_dim", "enc_ch", "dec_ch", "hidden", "dec_stages", "likelihood", "steps",
                "kl_warmup"):
        if getattr(args, key) is not None:
            s[key] = getattr(args, key)
    return s


def train_images(args, dataset: str):
    """Training images as floats in [0,1], [N,1,28,28]; the shipped demo images for a dry run without the data."""
    import torch

    from genlib import data

    x = real_or_synthetic(args, lambda: data.load_npz(dataset, args.data)["x_train"],
                          lambda: data.demo_images(dataset)[0], keep=256)
    return torch.from_numpy(x).float()[:, None] / 255


def test_set(args, dataset: str, likelihood: str = "bernoulli"):
    """The standard binarized test set (ARCHITECTURE.md), or for "logistic" the 8-bit test images (grey levels
    0..255 as floats); the demo images for a dry run without the data."""
    import torch

    from genlib import data

    if likelihood == "logistic":
        return grey_levels(args, dataset, "test", keep=16)

    def demo():
        x = torch.from_numpy(data.demo_images(dataset)[0][:16]).float()[:, None] / 255
        return torch.bernoulli(x, generator=torch.Generator().manual_seed(0))

    return real_or_synthetic(args, lambda: data.binarized_test_set(dataset, args.data), demo, keep=16)


def spread_subset(x, n=None):
    """Every (len/n)-th image, n in all: a subset with the whole set's mix of classes and styles."""
    return x[::len(x) // n][:n] if n and n < len(x) else x


def _log_prob_worker(config, state, x, k, seed):
    """One process's share of the k-sample estimate (spawned: a fresh interpreter, one thread)."""
    import torch

    from genlib.vae import build

    torch.set_num_threads(1)
    model = build(config)
    model.load_state_dict(state)
    model.eval()
    g = torch.Generator().manual_seed(seed)
    parts, progress = [], Progress(len(x), every=60.0)
    for i in range(0, len(x), 4):
        parts.append(model.log_prob(x[i:i + 4], k=k, generator=g))
        progress(min(i + 4, len(x)), job=seed, nll=-torch.cat(parts).mean().item())
    return torch.cat(parts)


def evaluate(model, x_test, k: int, seed: int = 0, n_logp=None, jobs: int = 1) -> dict:
    """Test metrics in nats (positive = negative log-likelihood).

    VAE: -ELBO (one z sample per image) on all of x_test, and -log p(x) by importance sampling with
    k samples on `n_logp` evenly spread images (all by default), split over `jobs` processes.
    AE: only the reconstruction term -log p(x | z = encoder(x)); an AE has no p(x).
    """
    import torch

    from genlib.metrics import bits_per_dim

    g = torch.Generator().manual_seed(seed)
    t0 = time.time()
    out = {"eval_images": int(x_test.shape[0])}
    with torch.inference_mode():
        if not model.is_vae:
            rec = torch.cat([model.reconstruction(x_test[i:i + 500]) for i in range(0, len(x_test), 500)])
            out["test_reconstruction_nats"] = round(-rec.mean().item(), 3)
            out["eval_wall_time_s"] = round(time.time() - t0, 1)
            return out
        rec, kl = zip(*(model.elbo_terms(x_test[i:i + 500], g) for i in range(0, len(x_test), 500)))
        rec, kl = torch.cat(rec), torch.cat(kl)
        out["test_neg_elbo_nats"] = round(-(rec - kl).mean().item(), 3)
        out["test_reconstruction_nats"] = round(-rec.mean().item(), 3)
        out["test_kl_nats"] = round(kl.mean().item(), 3)
        x_lp = spread_subset(x_test, n_logp)
        if jobs > 1:  # the decoder runs len(x) * k times: spread it over processes
            import multiprocessing as mp

            shards = x_lp.chunk(jobs)
            state = {k_: v.clone() for k_, v in model.state_dict().items()}
            with mp.get_context("spawn").Pool(jobs) as pool:
                lp = torch.cat(pool.starmap(_log_prob_worker, [(model.card["config"], state, xs, k, seed + j)
                                                                for j, xs in enumerate(shards)]))
        else:
            parts, progress = [], Progress(len(x_lp), every=30.0)
            for i in range(0, len(x_lp), 4):
                parts.append(model.log_prob(x_lp[i:i + 4], k=k, generator=g))
                progress(i + 4, nll=-torch.cat(parts).mean().item())
            lp = torch.cat(parts)
    nll = -lp.mean().item()
    out.update({
        "test_nll_nats": round(nll, 3),
        "test_nll_stderr_nats": round(lp.std().item() / math.sqrt(len(lp)), 3),
        "test_nll_k": k,
        "test_nll_images": int(len(lp)),
        "test_bits_per_dim": round(bits_per_dim(nll), 4),
        "eval_jobs": jobs,
        "eval_wall_time_s": round(time.time() - t0, 1),
    })
    return out


SET = {"bernoulli": "binarized once with torch.bernoulli(x/255, generator=torch.Generator().manual_seed(0))",
       "logistic": "8-bit grey levels 0..255 as they are (discrete likelihood: no dequantization needed)"}


def metrics_card(m: dict, dataset: str, command: str, threads: int, z_dim: int, likelihood: str = "bernoulli") -> dict:
    m = dict(m)
    m["eval_set"] = f"{dataset} test set ({m['eval_images']} images), {SET[likelihood]}"
    if "test_nll_images" in m and m["test_nll_images"] < m["eval_images"]:
        m["eval_set_nll"] = (f"log p(x) on every {m['eval_images'] // m['test_nll_images']}-th image of that set "
                             f"({m['test_nll_images']} images); the ELBO terms on all {m['eval_images']}")
    m["measured_with"] = command
    m["threads"] = threads
    if dataset == "mnist" and "test_nll_nats" in m and likelihood == "bernoulli":
        m["published_test_nll_nats"] = PUBLISHED
        m["published_note"] = ("Burda et al. report k=5000 with MLP nets and a 50-D latent, on dynamically "
                               "binarized MNIST: the same convention, another binarization sample."
                               + (" A 2-D latent cannot get near these numbers; they are context only."
                                  if z_dim < 10 else ""))
    return m


def measure(args, weights_dir, model=None) -> dict:
    """Measure a saved model's test metrics and write them into its card (replacing older ones)."""
    from genlib import zoo

    model = model or zoo.load(args.name, weights_dir)
    dataset = model.card["dataset"]["id"]
    k = min(args.eval_k, 8) if args.dry_run else args.eval_k
    likelihood = getattr(model, "likelihood", "bernoulli")
    m = evaluate(model, test_set(args, dataset, likelihood), k, args.seed, args.eval_n, args.eval_jobs)
    m = metrics_card(m, dataset, command_string(args), args.threads, model.z_dim, likelihood)
    print(m, flush=True)
    return zoo.update_card(args.name, weights_dir, merge=False, metrics=m)


def main(args):
    import torch

    from genlib import zoo
    from genlib.vae import build

    run = Run(args, ["loss", "rec", "kl", "beta", "lr"])
    if args.eval_only:
        return measure(args, run.out_dir)["metrics"]
    s = settings(args)
    if args.dry_run:
        s["kl_warmup"] = min(s["kl_warmup"], 2)
    config = {k: s[k] for k in ("kind", "z_dim", "enc_ch", "dec_ch", "hidden", "dec_stages")}
    eight_bit = s["likelihood"] == "logistic"
    if eight_bit:
        config["likelihood"] = "logistic"
    g = torch.Generator().manual_seed(args.seed)  # drives batches and binarization: a run is repeatable
    x_train = train_images(args, s["dataset"])
    model = build(config)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # cosine decay to 0: most of the late gain in nats comes from the small final learning rates
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * min(i / s["steps"], 1))))
    run.track(model=model, opt=opt, sched=sched, rng=g)
    batches = shuffled_batches(x_train, args.batch_size, g)

    def train_step():
        x = next(batches)
        x = (x * 255).round() if eight_bit else torch.bernoulli(x, generator=g)  # grey levels, or dynamic binarization
        beta = min(1.0, (run.step + 1) / s["kl_warmup"]) if s["kl_warmup"] else 1.0
        if s["kind"] == "ae":
            rec, kl = model.reconstruction(x), torch.zeros(len(x))
            loss = -rec.mean()
        else:
            rec, kl = model.elbo_terms(x, g)  # with --iw-k, for the log only
            loss = -model.iwae_bound(x, args.iw_k, g).mean() if args.iw_k > 1 else -(rec - beta * kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item(), "rec": -rec.mean().item(), "kl": kl.mean().item(), "beta": beta,
                "lr": sched.get_last_lr()[0]}

    model.train()
    run.fit(train_step, steps=s["steps"], checkpoint_every=120, log_every=50)
    card = zoo.save(model.eval(), args.name, {
        **run.card_fields(), "family": s["kind"], "config": config, "licence": LICENCES[s["dataset"]],
        "dataset": {"id": s["dataset"], "description": zoo.DATASETS[s["dataset"]]}, "batch_size": args.batch_size,
        "epochs": round(run.step * args.batch_size / len(x_train), 2),
        "training": {"objective": "reconstruction (BCE)" if s["kind"] == "ae" else
                     (f"IWAE bound, k={args.iw_k}" if args.iw_k > 1 else "ELBO"),
                     "binarization": "none: 8-bit grey levels, discretized logistic p(x|z)" if eight_bit
                     else "dynamic (fresh Bernoulli sample per batch)",
                     "optimizer": f"Adam lr {args.lr}, cosine decay to 0", "kl_warmup_steps": s["kl_warmup"]},
    }, run.out_dir)
    print(f"saved {args.name}: {card['parameters']} parameters, {run.elapsed:.0f} s", flush=True)
    model.card = card
    return card if args.no_eval else measure(args, run.out_dir, model)


def shuffled_batches(x, batch_size: int, g):
    """Endless batches of x: a fresh permutation (drawn from g) for every pass over the data."""
    import torch

    while True:
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - batch_size + 1, batch_size):
            yield x[perm[i:i + batch_size]]
