"""Face-GAN pilots: recipes trained by the training CLI for the same wall time on one thread, one after another,
then ranked by a face model nobody here trained (FD-dlib, genlib.evaluate_gan) and by the detector sanity check.

    python benchmarks/gan_pilots.py --train [--minutes 25] [--only NAME ...]   # train the pilots, then the table
    python benchmarks/gan_pilots.py                                            # the table from the pilots' weights

The pilots' weights go to runs/gan-pilots/ (not shipped: UTKFace-derived); the table (recipe, images seen, img/s,
FD-dlib on two seed sets, detector hits, the command of each pilot) is written to benchmarks/results/gan_pilots.json
and .md, which are committed. Train with nothing else busy on the machine: equal wall time is the comparison.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys

import _timing  # noqa: F401  (puts the project root on sys.path)

from genlib import zoo  # noqa: E402

ROOT = zoo.WEIGHTS_DIR.parent
PILOTS_DIR = ROOT / "runs" / "gan-pilots"
RESULTS = ROOT / "benchmarks" / "results" / "gan_pilots"

# name -> (what changes against the control, extra CLI flags). The control is the textbook DCGAN of the issue
# (ngf = ndf = 32, float32, Adam 2e-4 / 0.5, the trainer's defaults).
RECIPES = {
    "pilot-control": ("textbook DCGAN (ngf = ndf = 32, float32)", []),
    "pilot-bf16": ("bfloat16 autocast: about twice the images in the same time", ["--bf16"]),
    "pilot-bf16-diffaug": ("bf16 + DiffAugment colour and translation on reals and fakes",
                           ["--bf16", "--augment", "color,translation"]),
    "pilot-bf16-wide": ("bf16 + ngf = ndf = 64", ["--bf16", "--ngf", "64", "--ndf", "64"]),
    "pilot-bf16-nearest": ("bf16 + nearest-neighbour upsampling + 3x3 convolutions in G",
                           ["--bf16", "--upsample", "nearest"]),
}


def pilot_command(name: str, minutes: float) -> list[str]:
    return ["python", "-m", "genlib.train", "gan", "--name", name, "--threads", "1", "--max-minutes", f"{minutes:g}",
            "--out-dir", str(PILOTS_DIR.relative_to(ROOT)), *RECIPES[name][1]]


def train(names: list[str], minutes: float) -> None:
    for name in names:
        if (PILOTS_DIR / f"{name}.json").exists():
            print(f"{name}: trained already ({PILOTS_DIR / name}.json)", flush=True)
            continue
        command = pilot_command(name, minutes)
        print("$ " + shlex.join(command), flush=True)
        subprocess.run(command, cwd=ROOT, check=True)


def evaluate(name: str, weights_dir, model, ref, test, recipe: str) -> tuple[dict, dict]:
    """(row, FD-dlib figures): the card's training figures, FD-dlib on two seed sets, HOG hits, the detector."""
    import torch

    import genlib
    from genlib import evaluate_gan as ev
    from genlib import image_quality as iq

    torch.manual_seed(0)
    G = genlib.load(name, weights_dir=weights_dir)
    card = G.card
    fd = ev.fd_dlib_figures(model, ref, G, test)
    detector = iq.two_sample_test(ev.uint8_to_01(test["x"]), ev.faces_from_seeds(G, ev.FD_SEEDS[0]))
    wall = card.get("wall_time_s") or 0
    row = {"name": name, "recipe": recipe, "images_seen": card["images_seen"], "wall_time_s": wall,
           "images_per_s": round(card["images_seen"] / wall, 1) if wall else None, "parameters": card["parameters"],
           "fd_dlib": fd["generated"], "fd_dlib_per_seed_set": fd["generated_per_seed_set"],
           "position": fd["position"], "hog_hit_rate": fd["hog_detector_hit_rate"]["generated"],
           "detector_accuracy": detector["accuracy"], "detector_ci95": detector["ci95"], "command": card["command"]}
    print(json.dumps(row), flush=True)
    return row, fd


def table(rows: list[dict], fd: dict) -> str:
    lines = [f"FD-dlib x100 against the {fd['reference']} ({fd['faces_per_set']:,} faces per set, psi = 1); "
             f"the ladder: real training faces {fd['floor_train_vs_test']:.2f}, blurred "
             + ", ".join(f"{k} {v:.2f}" for k, v in fd["blurred_train_vs_test"].items())
             + f"; HOG detector on real test faces {fd['hog_detector_hit_rate']['test_faces']:.1%}.", "",
             "| pilot | recipe | images seen | img/s | FD-dlib (seeds 2000+ / 5000+) | where on the ladder "
             "| HOG hits | two-sample detector |", "|---|---|---:|---:|---|---|---:|---:|"]
    for r in sorted(rows, key=lambda r: r["fd_dlib"]):
        per_seed = " / ".join(f"{v:.2f}" for v in r["fd_dlib_per_seed_set"].values())
        hits = min(r["hog_hit_rate"].values())
        lines.append(f"| {r['name']} | {r['recipe']} | {r['images_seen']:,} | {r['images_per_s']} | "
                     f"**{r['fd_dlib']:.2f}** ({per_seed}) | {r['position']} | {hits:.1%} | "
                     f"{r['detector_accuracy']:.1%} |")
    return "\n".join(lines) + "\n"


def merged_with_recorded(rows: list[dict]) -> list[dict]:
    """These rows, plus the recorded rows of pilots not measured in this run (--only splits the work)."""
    path = RESULTS.with_suffix(".json")
    recorded = json.loads(path.read_text())["rows"] if path.exists() else []
    names = {r["name"] for r in rows}
    return [r for r in recorded if r["name"] not in names and r["name"] in RECIPES] + rows


def evaluate_all(names: list[str], threads: int) -> None:
    import torch

    from genlib import face_yardstick as fy
    from genlib.data import load_faces
    from genlib.evaluate_gan import dlib_reference

    torch.set_num_threads(threads)
    model, train_faces, test = fy.FaceModel(), load_faces("train"), load_faces("test")
    ref = dlib_reference(model, train_faces, test)
    rows, fd = [], None
    for name in names:
        if not (PILOTS_DIR / f"{name}.json").exists():
            print(f"{name}: not trained yet, left out", flush=True)
            continue
        row, fd = evaluate(name, PILOTS_DIR, model, ref, test, RECIPES[name][0])
        rows.append(row)
    if not rows:
        raise SystemExit("no pilot has weights yet: python benchmarks/gan_pilots.py --train")
    rows = merged_with_recorded(rows)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    ladder = {k: fd[k] for k in ("floor_train_vs_test", "blurred_train_vs_test", "reference", "faces_per_set",
                                 "extractor")}
    RESULTS.with_suffix(".json").write_text(json.dumps({"ladder": ladder, "hog_on_test_faces":
                                                        fd["hog_detector_hit_rate"]["test_faces"], "rows": rows},
                                                       indent=2) + "\n")
    RESULTS.with_suffix(".md").write_text(table(rows, fd))
    print(table(rows, fd))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", action="store_true", help="train the pilots that have no weights yet, then the table")
    p.add_argument("--minutes", type=float, default=25.0, help="wall time of each pilot")
    p.add_argument("--only", nargs="+", choices=sorted(RECIPES), default=list(RECIPES))
    p.add_argument("--threads", type=int, default=1, help="torch threads for the evaluation")
    args = p.parse_args(argv)
    if args.train:
        train(args.only, args.minutes)
    evaluate_all(args.only, args.threads)


if __name__ == "__main__":
    main(sys.argv[1:])
