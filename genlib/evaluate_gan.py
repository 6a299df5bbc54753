"""Quality figures for the face GAN; writes every number into weights/gan-faces.json.

    python -m genlib.evaluate_gan [--n 5000] [--threads 1]
    python -m genlib.evaluate_gan --fd-dlib --threads 1     # the external yardstick (genlib/face_yardstick.py)

FD-dlib (first, the strictest): the Frechet distance between dlib face-recognition embeddings of 1,152 generated
faces (psi = 1, seeds 2000+ and 5000+, averaged) and of the 1,166 test faces, x100, placed on a ladder of real
training faces blurred by 0.5 / 1 / 2 px; a face model trained on millions of photos judges whether these are
plausible faces. Evaluation only: requirements-eval.txt.

The quality ladder (the figure the page shows; genlib/image_quality.py): the Frechet distance to the 1,166
test faces in the features of `faces-quality`, a network trained to tell real faces from degraded ones, so it
sees sharpness, noise and compression. It is calibrated on degraded real faces (blur 0.5/1/2 px, JPEG q70/50/30,
noise 0.02/0.05/0.1; it must grow along each), and the generated faces are placed on it ("between blur 0.5 px
and blur 1 px"). The same ladder in BRISQUE-style natural-scene statistics (no training at all) is a cross-check.
Every set on the ladder has as many images as the test split.
The detector: a fresh small CNN trained on half of the test faces and as many generated faces (truncation 1)
to tell them apart; its accuracy on the other halves, with a 95% interval (50% = it cannot tell).
FID-UTK (identity features, kept for what it measures): the Frechet distance between Gaussians fitted to
`faces-classifier` features (128-D) of two image sets, always against the 1,166 test faces and always with
the same number of images on the other side (FID is biased by sample size, so only equal-size numbers are
comparable):
  generated  n GAN faces (seed 0) per truncation
  floor      n random *training* faces: the best a model of the data can hope for
  ceiling    the same n training faces heavily blurred (64 -> 16 -> 64 px): clearly not a face photo
Memorisation: for each generated face, the pixel distance (L2 over 64x64x3 in [0,1]) and the feature
distance to its nearest *training* face, next to the same distances for the real test faces (which
the GAN never saw). A GAN that copies training faces would have generated faces much nearer to the
training set than test faces are.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np


def blur_heavily(x01):
    import torch.nn.functional as F

    return F.interpolate(F.avg_pool2d(x01, 4), scale_factor=4, mode="bilinear", align_corners=False)


def uint8_to_01(x):
    import torch

    return torch.as_tensor(x).permute(0, 3, 1, 2).float() / 255


def generate(G, n, seed, truncation, batch=250):
    import torch

    z = G.latents(n, seed=seed, truncation=truncation)
    return torch.cat([G.generate(z[i:i + batch]) for i in range(0, n, batch)])


def reference(C, train, test, args) -> dict:
    """Everything that does not depend on the GAN: features of the test faces, of a training sample
    (floor), of the blurred sample (ceiling) and of all training faces, plus the test faces' nearest-
    training-face distances. Cached under runs/eval-cache (features and distances only, no images),
    keyed by the classifier's sha256, so re-evaluating a new GAN checkpoint takes a minute, not ten."""
    import torch

    from genlib.classifier import extract_features
    from genlib.metrics import nearest_neighbours
    from genlib.train.common import RUNS_DIR

    key = f"{C.card['sha256'][:12]}-n{args.n}-seed{args.seed}"
    path = RUNS_DIR / "eval-cache" / f"{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return dict(z)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(train["x"]), size=min(args.n, len(train["x"])), replace=False)
    sample01 = uint8_to_01(train["x"][pick])
    f_train = extract_features(C, train["x"])
    train_flat = torch.from_numpy(train["x"]).permute(0, 3, 1, 2).reshape(len(train["x"]), -1)
    test_flat = torch.from_numpy(test["x"]).permute(0, 3, 1, 2).reshape(len(test["x"]), -1)
    ref = {"f_test": extract_features(C, test["x"]).numpy(), "f_sample": f_train[pick].numpy(),
           "f_blurred": extract_features(C, blur_heavily(sample01)).numpy(), "f_train": f_train.numpy()}
    ref["d_test_px"] = nearest_neighbours(test_flat, train_flat)[0]
    ref["d_test_f"] = nearest_neighbours(ref["f_test"], ref["f_train"])[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **ref)
    return ref


def write_grid(G, path, seeds=range(16), truncation=0.8, scale=2):
    """A 4x4 grid of generated faces (seeds 0..15: the same faces the page shows for those seeds)."""
    import torch
    from PIL import Image

    from genlib.gan import grid

    faces = G.generate(torch.cat([G.latents(1, seed=s, truncation=truncation) for s in seeds]))
    im = Image.fromarray(grid(faces, nrow=4))
    im.resize((im.width * scale, im.height * scale), Image.LANCZOS).save(path)
    print(f"wrote {path}", flush=True)


def quality_ladder(test, train, generated: dict, args) -> dict:
    """The quality ladder in faces-quality features and in NSS statistics, and the detector; see the docstring."""
    import torch

    import genlib
    from genlib import image_quality as iq

    n = min(len(test["x"]), args.n)  # every set on the ladder as large as the test split (FD depends on n)
    test01 = uint8_to_01(test["x"])
    pick = np.random.default_rng(args.seed).choice(len(train["x"]), size=n, replace=False)
    sample01 = uint8_to_01(train["x"][pick])
    gen = {f"truncation_{t:g}": x[:n] for t, x in generated.items()}
    encoder = genlib.load("faces-quality", weights_dir=args.weights_dir)
    ladder = iq.ladder_figures(encoder, test01, sample01, gen, seed=args.seed)
    print("quality ladder", ladder, flush=True)

    ref = iq.nss_features(test01).numpy()

    def nss_distance(x01):  # the Frechet distance to the test faces in NSS statistics
        return round(iq.frechet_nss(iq.nss_features(x01).numpy(), ref), 3)

    nss = {"real_faces": nss_distance(sample01),
           "degraded_real_faces": {label: nss_distance(iq.degrade(sample01, kind, strength, args.seed))
                                   for kind, strength, label in iq.LADDER},
           "generated": {k: nss_distance(x) for k, x in gen.items()}}
    nss["position"] = {k: iq.ladder_position(v, nss["degraded_real_faces"], nss["real_faces"])
                       for k, v in nss["generated"].items()}
    print("NSS ladder", nss, flush=True)
    torch.manual_seed(args.seed)
    detector = iq.two_sample_test(test01, gen[f"truncation_{max(generated):g}"], seed=args.seed)
    print("detector", detector, flush=True)
    return {
        "quality_ladder": {**ladder, "images_per_set": n, "reference": f"UTKFace test split, {len(test01):,} faces",
                           "features": f"faces-quality ({encoder.card['sha256'][:12]}), standardised per feature",
                           "real_faces_are": f"{n:,} random training faces"},
        "quality_ladder_nss": {**nss, "features": "BRISQUE-style natural-scene statistics of the luminance, 36-D"},
        "detector": {**detector, "generated": f"truncation {max(generated):g}, seed {args.seed}",
                     "meaning": "held-out accuracy of a fresh CNN telling real test faces from generated ones; "
                                "50% = indistinguishable to it"},
    }


FD_FACES = 1152            # generated faces per FD-dlib set (the measurement: 18 batches of 64)
FD_SEEDS = (2000, 5000)    # two seed sets: their spread shows the figure's noise (~0.5 at 1,152 faces)


def faces_from_seeds(G, first_seed: int, n: int = FD_FACES, truncation: float = 1.0):
    """n faces [n,3,64,64] in [0,1], face i from seed first_seed + i (the face the page shows for that seed)."""
    import torch

    z = torch.cat([G.latents(1, seed=first_seed + i, truncation=truncation) for i in range(n)])
    return torch.cat([G.generate(z[i:i + 256]) for i in range(0, n, 256)])


def _dlib_cache(name: str):
    """A cache file under runs/eval-cache for dlib embeddings (never committed: some derive from UTKFace), keyed
    by the sizes of dlib's model files, so a new face model never reads another's embeddings."""
    from genlib import face_yardstick as fy
    from genlib.train.common import RUNS_DIR

    sizes = "-".join(str((fy.model_dir() / f).stat().st_size) for f in (fy.SHAPE_MODEL, fy.EMBEDDING_MODEL))
    return RUNS_DIR / "eval-cache" / f"dlib-{sizes}-{name}.npz"


def _cached(path, compute) -> dict:
    """The arrays in `path`, or compute() them and save them there."""
    if path.exists():
        with np.load(path) as z:
            return dict(z)
    arrays = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def dlib_reference(model, train, test, seed: int = 0) -> dict:
    """What does not depend on a GAN: embeddings of the test faces, of FD_FACES random training faces (the floor)
    and of those faces blurred by each rung of the ladder (cached), and the ladder's figures (as `figures`)."""
    from genlib import face_yardstick as fy

    def compute():
        pick = np.random.default_rng(seed).choice(len(train["x"]), size=FD_FACES, replace=False)
        real01 = uint8_to_01(train["x"][pick])
        print(f"embedding the reference sets with dlib ({len(test['x']) + 4 * FD_FACES:,} faces)", flush=True)
        return {"test": model.embed(uint8_to_01(test["x"])), "floor": model.embed(real01),
                **{f"blur_{s:g}": model.embed(x) for s, x in fy.blur_ladder(real01).items()}}

    ref = _cached(_dlib_cache(f"n{FD_FACES}-seed{seed}-test{len(test['x'])}"), compute)
    hits = _cached(_dlib_cache(f"hits-test{len(test['x'])}"),
                   lambda: {"rate": np.array(model.detection_rate(uint8_to_01(test["x"])))})
    floor = round(fy.fd_dlib(ref["floor"], ref["test"]), 3)
    rungs = {f"{s:g} px": round(fy.fd_dlib(ref[f"blur_{s:g}"], ref["test"]), 3) for s in fy.BLUR_SIGMAS}
    ref["figures"] = {"floor_train_vs_test": floor, "blurred_train_vs_test": rungs,
                      "test_hit_rate": round(float(hits["rate"]), 4)}
    return ref


def generated_embeddings(model, G, first_seed: int) -> dict:
    """Embeddings of FD_FACES faces of G (psi = 1) from `first_seed` on, and the HOG hit rate among them; cached
    by the weights' sha256, so measuring a model again (an earlier generation beside a new one) is free."""
    def compute():
        faces = faces_from_seeds(G, first_seed, FD_FACES)
        return {"embeddings": model.embed(faces), "hits": np.array(model.detection_rate(faces))}
    return _cached(_dlib_cache(f"G{G.card['sha256'][:16]}-seeds{first_seed}-n{FD_FACES}"), compute)


def fd_dlib_figures(model, ref: dict, G, test) -> dict:
    """FD-dlib of G (psi = 1, both seed sets), placed on the calibration ladder, and the HOG detector's hit rates."""
    from genlib import face_yardstick as fy
    from genlib.image_quality import ladder_position

    per_seed, hits = {}, {}
    for first in FD_SEEDS:
        gen = generated_embeddings(model, G, first)
        per_seed[f"seeds {first}+"] = round(fy.fd_dlib(gen["embeddings"], ref["test"]), 3)
        hits[f"seeds {first}+"] = round(float(gen["hits"]), 4)
    value, figures = round(float(np.mean(list(per_seed.values()))), 3), ref["figures"]
    rungs = {f"blur {k}": v for k, v in figures["blurred_train_vs_test"].items()}
    return {"generated": value, "generated_per_seed_set": per_seed,
            "floor_train_vs_test": figures["floor_train_vs_test"],
            "blurred_train_vs_test": figures["blurred_train_vs_test"],
            "position": ladder_position(value, rungs, figures["floor_train_vs_test"]),
            "hog_detector_hit_rate": {"generated": hits, "test_faces": figures["test_hit_rate"]},
            "faces_per_set": FD_FACES, "truncation": 1.0, "reference": f"UTKFace test split, {len(test['x']):,} faces",
            "extractor": "dlib face-recognition ResNet (dlib_face_recognition_resnet_model_v1), 128-D, faces "
                         "upscaled 64 -> 150 px bicubic, 5-point shape predictor on the whole image; distance x100"}


def summary(d) -> dict:
    d = np.asarray(d, dtype=np.float64)
    return {"median": round(float(np.median(d)), 4), "p05": round(float(np.percentile(d, 5)), 4),
            "min": round(float(d.min()), 4), "mean": round(float(d.mean()), 4)}


def main(argv=None):
    import torch

    import genlib
    from genlib.classifier import extract_features
    from genlib.data import load_faces
    from genlib.metrics import frechet_distance_features, nearest_neighbours

    p = argparse.ArgumentParser(prog="python -m genlib.evaluate_gan", description=__doc__.split("\n")[0])
    p.add_argument("--name", default="gan-faces")
    p.add_argument("--n", type=int, default=5000, help="images per FID set (the test side is always all 1,166)")
    p.add_argument("--n-memo", type=int, default=1000, help="generated faces in the memorisation check")
    p.add_argument("--truncations", default="1.0,0.8", help="1.0: the full model; 0.8: the page default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--data", default=None)
    p.add_argument("--no-write", action="store_true", help="print only, leave the card alone")
    p.add_argument("--prepare", action="store_true", help="only compute and cache the GAN-free reference")
    p.add_argument("--no-ladder", action="store_true", help="skip the quality ladder and the detector")
    p.add_argument("--fd-dlib", action="store_true",
                   help="only FD-dlib, the external yardstick (needs requirements-eval.txt), merged into the card")
    p.add_argument("--earlier", nargs="+", default=[], metavar="DIR",
                   help="with --fd-dlib: weights folders of earlier generations of the model, measured alongside")
    p.add_argument("--grid", default=None, help="also write a 4x4 grid of faces (seeds 0..15, truncation 0.8) here")
    args = p.parse_args(argv)
    command = shlex.join(["python", "-m", "genlib.evaluate_gan", *(sys.argv[1:] if argv is None else argv)])
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()

    train, test = load_faces("train", root=args.data), load_faces("test", root=args.data)
    if args.fd_dlib:
        return write_fd_dlib(args, train, test, command, t0)
    C = genlib.load("faces-classifier", weights_dir=args.weights_dir)
    ref = reference(C, train, test, args)
    if args.prepare:
        print(f"reference cached ({time.time() - t0:.0f} s)")
        return ref
    G = genlib.load(args.name, weights_dir=args.weights_dir)
    if args.grid:
        write_grid(G, args.grid)
    fid = {"floor_train_vs_test": frechet_distance_features(ref["f_sample"], ref["f_test"]),
           "ceiling_blurred_train_vs_test": frechet_distance_features(ref["f_blurred"], ref["f_test"])}
    gen = {}
    for t in [float(s) for s in args.truncations.split(",")]:
        gen[t] = generate(G, args.n, args.seed, t)
        fid[f"generated_vs_test_truncation_{t:g}"] = frechet_distance_features(
            extract_features(C, gen[t]), ref["f_test"])
    fid = {k: float(f"{v:.4g}") for k, v in fid.items()}
    print("FID-UTK", fid, flush=True)

    # memorisation: nearest training face of generated faces vs of real test faces
    t_memo = max(gen)  # truncation 1.0: the full variety, the case most likely to hit rare training faces
    g = gen[t_memo][:args.n_memo]
    train_flat = torch.from_numpy(train["x"]).permute(0, 3, 1, 2).reshape(len(train["x"]), -1)  # uint8
    scale = 1 / 255
    d_gen_px, _ = nearest_neighbours(g.reshape(len(g), -1) * 255, train_flat)
    d_gen_f, _ = nearest_neighbours(extract_features(C, g).float(), torch.from_numpy(ref["f_train"]).float())
    d_test_px, d_test_f = ref["d_test_px"], ref["d_test_f"]
    thr = np.percentile(d_test_px[:, 0] * scale, 1)
    memo = {
        "pixel_l2_generated_to_train": summary(d_gen_px[:, 0] * scale),
        "pixel_l2_test_to_train": summary(d_test_px[:, 0] * scale),
        "feature_l2_generated_to_train": summary(d_gen_f[:, 0]),
        "feature_l2_test_to_train": summary(d_test_f[:, 0]),
        "fraction_generated_nearer_than_1st_percentile_of_test": round(float((d_gen_px[:, 0] * scale < thr).mean()), 4),
        "generated": f"{len(g)} faces, seed {args.seed}, truncation {t_memo:g}",
        "units": "pixel: L2 over 64x64x3 values in [0,1]; feature: L2 in faces-classifier feature space",
    }
    print("memorisation", memo, flush=True)
    quality = {} if args.no_ladder else quality_ladder(test, train, gen, args)
    metrics = {
        **quality,
        "fid_utk": {**fid, "images_per_set": args.n, "reference": f"UTKFace test split, {len(test['x']):,} faces",
                    "extractor": "faces-classifier (128-D pooled features of an age/gender/race classifier: "
                                 "they see who is in the photo, not its sharpness or texture)",
                    "ceiling": "the same training faces, 4x average-pooled then bilinearly upsampled"},
        "memorisation": memo,
        "measured_with": command,
        "eval_set": "UTKFace test split (the FID reference)",
        "eval_images": len(test["x"]),
        "evaluation_wall_time_s": round(time.time() - t0, 1),
    }
    if not args.no_write:
        genlib.zoo.update_card(args.name, weights_dir=args.weights_dir, metrics=metrics)
        print(f"wrote metrics into {args.name}.json", flush=True)
    return metrics


def earlier_generation(model, ref, test, name: str, folder) -> dict:
    """FD-dlib of an earlier generation of the model, with what its own card says about its training."""
    import genlib
    from genlib import families

    G = genlib.load(name, weights_dir=folder)
    card, fd = G.card, fd_dlib_figures(model, ref, G, test)
    return {"sha256": card["sha256"], "images_seen": families.images_seen(card),  # all its runs together
            "wall_time_s": families.wall_time_s(card),
            "command": card["command"], "fd_dlib": fd["generated"],
            "fd_dlib_per_seed_set": fd["generated_per_seed_set"],
            "position": fd["position"], "hog_hit_rate": fd["hog_detector_hit_rate"]["generated"]}


def write_fd_dlib(args, train, test, command: str, t0: float) -> dict:
    import genlib
    from genlib.face_yardstick import FaceModel

    model = FaceModel()
    ref = dlib_reference(model, train, test, args.seed)
    G = genlib.load(args.name, weights_dir=args.weights_dir)
    fd = fd_dlib_figures(model, ref, G, test)
    fd["earlier_generations"] = [earlier_generation(model, ref, test, args.name, folder) for folder in args.earlier]
    fd.update(measured_with=command, evaluation_wall_time_s=round(time.time() - t0, 1))
    print("FD-dlib", fd, flush=True)
    if not args.no_write:
        genlib.zoo.update_card(args.name, weights_dir=args.weights_dir, metrics={"fd_dlib": fd})
        print(f"wrote FD-dlib into {args.name}.json", flush=True)
    return fd


if __name__ == "__main__":
    main()
