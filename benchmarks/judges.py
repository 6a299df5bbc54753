"""How well the machine judges of "Which one is real?" tell real from generated: 1,000 seeded rounds per
model family, each judge's accuracy with a Wilson 95% interval.

    python benchmarks/judges.py [--rounds 1000] [--seed 0] [--threads 1]

Digits: the 1,000 shipped MNIST test digits (genlib/demo_data), each binarized with its own seeded coin flips,
against 1,000 samples of each installed digit model; judges are the installed explicit-density models (the
image with the higher log p(x) is called real). Faces (only where UTKFace is present): 1,000 of the 1,166
UTKFace test faces against 1,000 gan-faces samples, judged by gan-faces-d. An accuracy measurement, not a
timing: a busy machine only makes it slower (the PixelCNN samples 1,000 digits in ~1.5 min on one core).
"""
import argparse
import time

from _timing import ROOT  # noqa: F401  (puts the project root on sys.path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    import genlib
    from genlib import data
    from genlib import real_or_fake as rf

    torch.set_num_threads(args.threads)
    models, skipped = {}, []
    for name in dict.fromkeys([o.name for o in rf.OPPONENTS] + [j.name for j in rf.JUDGES]):
        try:
            models[name] = genlib.load(name)
        except genlib.WeightsError as e:
            skipped.append(f"{name}: {str(e).splitlines()[0][:100]}")
    pools = {"digits": data.demo_images("mnist")[0]}
    try:
        pools["faces"] = data.load_faces("test")["x"]
    except data.DataMissingError as e:
        skipped.append(f"faces: {e}")

    rows = []
    for opponent in rf.OPPONENTS:
        if opponent.name not in models or opponent.domain not in pools:
            continue
        t = time.perf_counter()
        game = rf.build_game(args.seed, args.rounds, models, pools, opponents=[opponent.name])
        for label, verdicts in game.judged.items():
            s = rf.Score(label, len(verdicts), sum(verdicts))
            rows.append((opponent.label, label, s))
        print(f"  ({opponent.label}: {args.rounds} rounds built and judged in {time.perf_counter() - t:.0f} s)",
              flush=True)

    print(f"\nJudges over {args.rounds} seeded rounds per model family (seed {args.seed}); a judge is right when "
          f"it gives the real image the higher score.\n")
    print("| fakes made by | judge | rounds | judge right | 95% interval |")
    print("|---|---|---:|---:|---|")
    for opponent, judge, s in rows:
        lo, hi = s.interval
        print(f"| {opponent} | {judge} | {s.rounds} | {rf.percent(s.accuracy)} | {rf.percent(lo)} – {rf.percent(hi)} |")
    print("\nmodels: " + ", ".join(f"{n} (sha256 {m.card['sha256'][:12]})" for n, m in models.items()))
    for line in skipped:
        print(f"not measured: {line}")


if __name__ == "__main__":
    main()
