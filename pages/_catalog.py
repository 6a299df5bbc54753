"""The demos GenLab offers, in lecture order. app.py registers only those whose page file exists,
and the home page draws one card for each of them. Kept free of torch so the shell starts fast."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEMOS = [
    {"path": "pages/pixelcnn_completion.py", "title": "PixelCNN completion", "icon": "🧩",
     "density": "Explicit, tractable",
     "blurb": "Hide part of a digit and let the PixelCNN complete it pixel by pixel; see p(x) in nats "
              "and why sequential sampling is slow (and how to make it fast)."},
    {"path": "pages/vae_explorer.py", "title": "VAE latent explorer", "icon": "🗺️",
     "density": "Explicit, approximate",
     "blurb": "Walk a VAE's 2-D latent space, decode any point, interpolate between digits, and compare "
              "with a plain autoencoder whose latent space has holes."},
    {"path": "pages/gan_sampler.py", "title": "GAN face sampler", "icon": "🧑",
     "density": "Implicit",
     "blurb": "This face does not exist: a new face per click from a GAN trained here, with seeds, "
              "truncation, morphs and a check that it is not copying its training set."},
    {"path": "pages/gan_playground.py", "title": "GAN playground", "icon": "🎮",
     "density": "Implicit",
     "blurb": "Play the lecture's 2x2 'faces vs noise' GAN step by step, then watch a GAN learn 2-D "
              "distributions (and collapse onto one mode)."},
    {"path": "pages/reflect_quiz.py", "title": "Reflect quiz", "icon": "✅",
     "density": "Self-check",
     "blurb": "Graded self-assessment: the lecture's Reflect questions and many more, with explanations "
              "and a per-topic score."},
]


def existing_demos() -> list[dict]:
    """Only demos whose page exists: the app never shows a placeholder."""
    return [d for d in DEMOS if (ROOT / d["path"]).exists()]
