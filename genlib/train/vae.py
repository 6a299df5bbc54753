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
from pathlib import Path

from genlib.train.common import (CsvLog, Progress, add_common_arguments, command_string, load_checkpoint,
                                 run_dir, save_checkpoint)

# Per-model defaults. 469 steps of 128 images = one epoch of the 60,000 training images.
NAMES = {
    "vae-mnist": dict(dataset="mnist", kind="vae", z_dim=2, enc_ch=16, dec_ch=8, hidden=256, steps=4000),
    "vae-fashion": dict(dataset="fashion", kind="vae", z_dim=2, enc_ch=16, dec_ch=8, hidden=256, steps=2500),
    "ae-mnist": dict(dataset="mnist", kind="ae", z_dim=2, enc_ch=16, dec_ch=8, hidden=256, steps=2500),
    # The quality model: a two-stage decoder (7x7 -> 14x14 -> 28x28) and 96 epochs (docs/notes/issue-6.md).
    "vae-mnist-32": dict(dataset="mnist", kind="vae", z_dim=32, enc_ch=16, dec_ch=16, hidden=256, dec_stages=2,
                         steps=45000, kl_warmup=2000),
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
    for key in ("dataset", "kind", "z_dim", "enc_ch", "dec_ch", "hidden", "dec_stages", "steps", "kl_warmup"):
        if getattr(args, key) is not None:
            s[key] = getattr(args, key)
    return s


def load_train_images(dataset: str, root, dry_run: bool):
    """uint8 training images [N,28,28]; a dry run without the dataset falls back to the shipped demo set."""
    from genlib import data

    try:
        x = data.load_npz(dataset, root)["x_train"]
    except data.DataMissingError:
        if not dry_run:
            raise
        x = data.demo_images(dataset)[0]
    return x[:256] if dry_run else x


def load_test_set(dataset: str, root, dry_run: bool):
    import torch

    from genlib import data

    try:
        return data.binarized_test_set(dataset, root)
    except data.DataMissingError:
        if not dry_run:
            raise
        return torch.bernoulli(torch.from_numpy(data.demo_images(dataset)[0][:16]).float()[:, None] / 255,
                               generator=torch.Generator().manual_seed(0))


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


SET = "binarized once with torch.bernoulli(x/255, generator=torch.Generator().manual_seed(0))"


def metrics_card(m: dict, dataset: str, command: str, threads: int, z_dim: int) -> dict:
    m = dict(m)
    m["eval_set"] = f"{dataset} test set ({m['eval_images']} images), {SET}"
    if "test_nll_images" in m and m["test_nll_images"] < m["eval_images"]:
        m["eval_set_nll"] = (f"log p(x) on every {m['eval_images'] // m['test_nll_images']}-th image of that set "
                             f"({m['test_nll_images']} images); the ELBO terms on all {m['eval_images']}")
    m["command"] = command
    m["threads"] = threads
    if dataset == "mnist" and "test_nll_nats" in m:
        m["published_test_nll_nats"] = PUBLISHED
        m["published_note"] = ("Burda et al. report k=5000 with MLP nets and a 50-D latent, on dynamically "
                               "binarized MNIST: the same convention, another binarization sample."
                               + (" A 2-D latent cannot get near these numbers; they are context only."
                                  if z_dim < 10 else ""))
    return m


def _first_command(ck: dict, args, out_dir) -> str:
    """The command that started a resumed run. Checkpoints written before commands were recorded lack it;
    then it is the card's command if that card was written by the same run at the checkpoint's step."""
    if "command" in ck:
        return ck["command"]
    from genlib import zoo

    try:
        info = zoo.card(args.name, out_dir)
    except zoo.WeightsError:
        info = {}
    if info.get("steps") == ck["step"] and "resumed_with" not in info:
        return info["command"]
    return "(not recorded: checkpoint older than command logging)"


def main(args):
    import torch

    from genlib import zoo
    from genlib.vae import build

    if args.threads:
        torch.set_num_threads(args.threads)
    s = settings(args)
    if s["steps"] is None:
        s["steps"] = 4000
    if args.dry_run:
        s["steps"], args.batch_size, s["kl_warmup"] = 3, 16, min(s["kl_warmup"], 2)
    out_dir = args.out_dir or (run_dir(args.name, dry_run=True) if args.dry_run else None)
    config = {k: s[k] for k in ("kind", "z_dim", "enc_ch", "dec_ch", "hidden", "dec_stages")}
    command = command_string(args)

    if args.eval_only:
        model = zoo.load(args.name, out_dir)
        x_test = load_test_set(model.card["dataset"], args.data, args.dry_run)
        m = evaluate(model, x_test[:16] if args.dry_run else x_test, args.eval_k, args.seed, args.eval_n,
                     args.eval_jobs)
        m = metrics_card(m, model.card["dataset"], command, args.threads, model.z_dim)
        print(m, flush=True)
        zoo.update_card(args.name, out_dir, metrics=None)  # replace, not merge: no key of an older run survives
        zoo.update_card(args.name, out_dir, metrics=m)
        return m

    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)  # drives batches and binarization: a run is repeatable
    x_train = torch.from_numpy(load_train_images(s["dataset"], args.data, args.dry_run)).float()[:, None] / 255
    model = build(config)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # cosine decay to 0: most of the late gain in nats comes from the small final learning rates
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * min(i, s["steps"]) / s["steps"])))
    rdir = run_dir(args.name, dry_run=args.dry_run)
    if args.dry_run and args.out_dir:  # keep test runs' checkpoints and logs out of the shared runs/ folder
        rdir = Path(args.out_dir) / f"{args.name}-run"
        rdir.mkdir(parents=True, exist_ok=True)
    ckpt_path = rdir / "checkpoint.pt"
    step, elapsed = 0, 0.0
    resumed_with = []  # later commands that continued this run (e.g. more --steps, or --iw-k to fine-tune)
    if args.resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path)
        model.load_state_dict(ck["model"]), opt.load_state_dict(ck["opt"]), sched.load_state_dict(ck["sched"])
        g.set_state(ck["rng"])
        step, elapsed = ck["step"], ck["elapsed"]
        resumed_with = ck.get("resumed_with", []) + [f"at step {step}: {command}"]
        command = _first_command(ck, args, out_dir)
        print(f"resumed at step {step}", flush=True)
    log = CsvLog(rdir / "log.csv", ["step", "loss", "rec", "kl", "beta", "lr", "elapsed_s"])
    progress = Progress(s["steps"], start_step=step, every=30.0)
    n, bs = len(x_train), args.batch_size
    perm, pos = torch.randperm(n, generator=g), 0
    t_start, last_ckpt = time.time() - elapsed, time.time()
    model.train()
    while step < s["steps"]:
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=g), 0
        x = torch.bernoulli(x_train[perm[pos:pos + bs]], generator=g)  # dynamic binarization
        pos += bs
        beta = min(1.0, (step + 1) / s["kl_warmup"]) if s["kl_warmup"] else 1.0
        if s["kind"] == "ae":
            rec, kl = model.reconstruction(x), torch.zeros(bs)
            loss = -rec.mean()
        elif args.iw_k > 1:
            rec, kl = model.elbo_terms(x, g)  # for the log only
            loss = -model.iwae_bound(x, args.iw_k, g).mean()
        else:
            rec, kl = model.elbo_terms(x, g)
            loss = -(rec - beta * kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % 50 == 0 or step == s["steps"]:
            log.write(step=step, loss=round(loss.item(), 3), rec=round(-rec.mean().item(), 3),
                      kl=round(kl.mean().item(), 3), beta=round(beta, 3), lr=f"{sched.get_last_lr()[0]:.3g}",
                      elapsed_s=round(time.time() - t_start, 1))
        progress(step, loss=loss.item(), kl=kl.mean().item())
        if time.time() - last_ckpt > 120 or step == s["steps"]:
            save_checkpoint(ckpt_path, model=model.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(),
                            rng=g.get_state(), step=step, elapsed=time.time() - t_start,
                            command=command, resumed_with=resumed_with)
            last_ckpt = time.time()
    wall = time.time() - t_start
    model.eval()
    card = zoo.save(model, args.name, {
        "family": s["kind"], "config": config, "dataset": s["dataset"], "licence": LICENCES[s["dataset"]],
        "command": command, **({"resumed_with": resumed_with} if resumed_with else {}),
        "seed": args.seed, "steps": s["steps"], "batch_size": bs,
        "epochs": round(s["steps"] * bs / n, 2), "wall_time_s": round(wall, 1), "threads": args.threads,
        "training": {"objective": "reconstruction (BCE)" if s["kind"] == "ae" else
                     (f"IWAE bound, k={args.iw_k}" if args.iw_k > 1 else "ELBO"),
                     "binarization": "dynamic (fresh Bernoulli sample per batch)",
                     "optimizer": f"Adam lr {args.lr}, cosine decay to 0", "kl_warmup_steps": s["kl_warmup"]},
    }, out_dir)
    model.card = card
    print(f"saved {args.name}: {card['parameters']} parameters, {wall:.0f} s", flush=True)
    if not args.no_eval:
        k = min(args.eval_k, 8) if args.dry_run else args.eval_k
        x_test = load_test_set(s["dataset"], args.data, args.dry_run)
        m = evaluate(model, x_test[:16] if args.dry_run else x_test, k, args.seed, args.eval_n, args.eval_jobs)
        m = metrics_card(m, s["dataset"], command, args.threads, s["z_dim"])
        print(m, flush=True)
        card = zoo.update_card(args.name, out_dir, metrics=m)
    return card
