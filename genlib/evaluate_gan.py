"""FID-UTK and the memorisation check for the face GAN; writes every number into weights/gan-faces.json.

    python -m genlib.evaluate_gan [--n 5000] [--threads 1]

FID-UTK: the Frechet distance between Gaussians fitted to `faces-classifier` features (128-D) of two
image sets, always against the 1,166 test faces and always with the same number of images on the
other side (FID is biased by sample size, so only equal-size numbers are comparable):
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
    p.add_argument("--truncations", default="1.0,0.7")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--data", default=None)
    p.add_argument("--no-write", action="store_true", help="print only, leave the card alone")
    args = p.parse_args(argv)
    command = shlex.join(["python", "-m", "genlib.evaluate_gan", *(sys.argv[1:] if argv is None else argv)])
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()

    G = genlib.load(args.name, weights_dir=args.weights_dir)
    C = genlib.load("faces-classifier", weights_dir=args.weights_dir)
    train, test = load_faces("train", root=args.data), load_faces("test", root=args.data)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(train["x"]), size=min(args.n, len(train["x"])), replace=False)
    f_test = extract_features(C, test["x"])
    train_sample01 = uint8_to_01(train["x"][pick])
    fid = {"floor_train_vs_test": frechet_distance_features(extract_features(C, train_sample01), f_test),
           "ceiling_blurred_train_vs_test": frechet_distance_features(
               extract_features(C, blur_heavily(train_sample01)), f_test)}
    gen = {}
    for t in [float(s) for s in args.truncations.split(",")]:
        gen[t] = generate(G, args.n, args.seed, t)
        fid[f"generated_vs_test_truncation_{t:g}"] = frechet_distance_features(extract_features(C, gen[t]), f_test)
    fid = {k: round(v, 3) for k, v in fid.items()}
    print("FID-UTK", fid, flush=True)

    # memorisation: nearest training face of generated faces vs of real test faces
    t_memo = max(gen)  # truncation 1.0: the full variety, the case most likely to hit rare training faces
    g = gen[t_memo][:args.n_memo]
    train01_flat = torch.from_numpy(train["x"]).permute(0, 3, 1, 2).reshape(len(train["x"]), -1)  # uint8
    scale = 1 / 255
    d_gen_px, _ = nearest_neighbours(g.reshape(len(g), -1) * 255, train01_flat)
    d_test_px, _ = nearest_neighbours(torch.from_numpy(test["x"]).permute(0, 3, 1, 2).reshape(len(test["x"]), -1),
                                      train01_flat)
    f_train = extract_features(C, train["x"])
    d_gen_f, _ = nearest_neighbours(extract_features(C, g).float(), f_train.float())
    d_test_f, _ = nearest_neighbours(f_test.float(), f_train.float())
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
    metrics = {
        "fid_utk": {**fid, "images_per_set": args.n, "reference": "UTKFace test split, 1,166 faces",
                    "extractor": "faces-classifier (128-D pooled features)",
                    "ceiling": "the same training faces, 4x average-pooled then bilinearly upsampled"},
        "memorisation": memo,
        "measured_with": command,
        "evaluation_wall_time_s": round(time.time() - t0, 1),
    }
    if not args.no_write:
        genlib.zoo.update_card(args.name, weights_dir=args.weights_dir, metrics=metrics)
        print(f"wrote metrics into {args.name}.json", flush=True)
    return metrics


if __name__ == "__main__":
    main()
