"""VAE explorer timings on CPU: medians for decoding one z (what a slider move costs), a 20x20 manifold
grid (decode + tiling), encoding the 1,000 demo images (the latent map), and the chosen image's ELBO
terms with the k=1000 log p(x) estimate.

    python benchmarks/vae.py [--model vae-mnist] [--repeats 30] [--threads 1]

Uses the shipped weights (train with `python -m genlib.train vae --name <model>` first).
"""
import argparse

from _timing import median_ms  # also puts the project root on sys.path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vae-mnist")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    import genlib
    from genlib.data import demo_images
    from genlib.vae import elbo_report, encode_means, grid_image, manifold_z

    torch.set_num_threads(args.threads)
    model = genlib.load(args.model)
    z_one = torch.zeros(1, model.z_dim)
    z_grid = manifold_z(20) if model.z_dim == 2 else torch.randn(400, model.z_dim)
    x_demo = demo_images(model.card["dataset"]["id"])[0]
    x_bin = torch.bernoulli(torch.from_numpy(x_demo[:1]).float()[:, None] / 255)

    def decode_one():
        with torch.inference_mode():
            model.decode(z_one)

    def manifold():
        with torch.inference_mode():
            grid_image(model.decode(z_grid), 20)

    rows = [("decode one z", median_ms(decode_one, args.repeats)),
            ("20x20 manifold grid (400 decodes + tiling)", median_ms(manifold, args.repeats)),
            ("encode 1,000 demo images (latent map)", median_ms(lambda: encode_means(model, x_demo), 5)),
            ("ELBO terms + log p(x), k=1000, one image", median_ms(lambda: elbo_report(model, x_bin), 5))]
    print(f"{args.model} on CPU, torch threads {args.threads}, median of {args.repeats} "
          f"(5 for the last two):")
    for label, ms in rows:
        print(f"  {label:<44} {ms:8.2f} ms")


if __name__ == "__main__":
    main()
