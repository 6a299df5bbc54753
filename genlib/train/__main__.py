import argparse
import importlib
import sys

FAMILIES = {
    "gan": "the face GAN (UTKFace 64x64) -> weights/gan-faces",
    "classifier": "the face classifier behind FID-UTK -> weights/faces-classifier",
    "quality": "the face-quality encoder behind the GAN's degradation ladder -> weights/faces-quality",
    "vae": "VAEs and the plain autoencoder (MNIST / Fashion-MNIST)",
    "pixelcnn": "the PixelCNN on binarized MNIST -> weights/pixelcnn-mnist",
    "pixelrnn": "a PixelRNN (--variant row|diag) on binarized MNIST -> weights/pixelrnn-<variant>-mnist",
    "flow": "the reversible (Glow-style) flow on 8-bit MNIST -> weights/flow-mnist8",
    "pixelcnnpp": "the PixelCNN with the slide's improvements on 8-bit MNIST -> weights/pixelcnnpp-mnist8",
}


def parser() -> argparse.ArgumentParser:
    """The CLI: one subcommand per family module that exists."""
    parser = argparse.ArgumentParser(prog="python -m genlib.train", description="Train a GenLab model.")
    sub = parser.add_subparsers(dest="family", required=True)
    for family, help_text in FAMILIES.items():
        try:
            module = importlib.import_module(f"genlib.train.{family}")
        except ModuleNotFoundError as e:
            if e.name != f"genlib.train.{family}":
                raise
            continue  # family not built yet
        p = sub.add_parser(family, help=help_text)
        module.add_arguments(p)
        p.set_defaults(run=module.main)
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    args.argv = ["python", "-m", "genlib.train", *(sys.argv[1:] if argv is None else argv)]
    return args.run(args)


if __name__ == "__main__":
    main()
