"""GAN face sampler timings on CPU: medians for one face, a batch of 16, and the page's "New face" rerun.

    python benchmarks/gan.py [--repeats 30] [--threads 1]

Uses the shipped weights/gan-faces (run `python -m genlib.train gan` first). The "New face" rerun
is the whole page script in AppTest after a click (model cached, as in the app); the nearest-faces
search is off there, as it is until a user asks for it.
"""
import argparse

from _timing import ROOT, median_ms  # also puts the project root on sys.path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--page-repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()

    import torch

    import genlib

    if args.threads:
        torch.set_num_threads(args.threads)
    G = genlib.load("gan-faces")
    seeds = iter(range(10**9))
    one = median_ms(lambda: G.sample(1, seed=next(seeds)), args.repeats)
    sixteen = median_ms(lambda: G.sample(16, seed=next(seeds)), args.repeats)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model gan-faces "
          f"({G.card['parameters']:,} parameters)")
    print(f"one face (latents + generate):   median {one:7.1f} ms over {args.repeats}")
    print(f"batch of 16 faces:               median {sixteen:7.1f} ms over {args.repeats} "
          f"({sixteen / 16:.1f} ms per face, {16 * one / sixteen:.1f}x faster per face than one by one)")

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "gan_sampler.py"), default_timeout=120)
    at.query_params["seed"] = "1"
    at.run()
    assert not at.exception, at.exception

    def click():
        at.button[0].click().run()
        assert not at.exception

    page = median_ms(click, args.page_repeats, warmup=1)
    print(f'page "New face" rerun (AppTest): median {page:7.1f} ms over {args.page_repeats} '
          "(big face + D's opinion + 16-face grid + morph frame)")


if __name__ == "__main__":
    main()
