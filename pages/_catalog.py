"""The demos GenLab offers, in lecture order. app.py registers only those whose page file exists,
and the home page draws one card for each of them. Kept free of torch so the shell starts fast."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEMOS = [
    {"path": "pages/pixelcnn_completion.py", "title": "PixelCNN completion", "icon": "🧩",
     "density": "Explicit, tractable",
     "blurb": "Hide part of a digit and let the PixelCNN complete it pixel by pixel; see p(x) in nats "
              "and why sequential sampling is slow (and how to make it fast)."},
    {"path": "pages/autoregressive.py", "title": "PixelRNN vs PixelCNN", "icon": "🐢",
     "density": "Explicit, tractable",
     "blurb": "Row LSTM, Diagonal BiLSTM and PixelCNN side by side: digits painted from the corner, what one "
              "pixel's prediction depends on, and the lecture's speed claims measured."},
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
     "blurb": "Play the lecture's 2x2 'faces vs noise' GAN step by step: score images with the "
              "discriminator by hand, see both error functions, train G against D."},
    {"path": "pages/gan_lab_2d.py", "title": "2-D GAN lab", "icon": "🎯",
     "density": "Implicit",
     "blurb": "Watch a GAN learn 2-D distributions the way GAN Lab draws them, and collapse onto one "
              "mode (and the remedy)."},
    {"path": "pages/real_or_fake.py", "title": "Which one is real?", "icon": "🕵️",
     "density": "Game: you vs the generators",
     "blurb": "A real image and a generated one side by side: pick the real one. See how you did per model, "
              "against people in a published study, and against the models' own judges (p(x), the GAN's D)."},
    {"path": "pages/reflect_quiz.py", "title": "Reflect quiz", "icon": "✅",
     "density": "Self-check",
     "blurb": "Graded self-assessment: the lecture's Reflect questions and many more, with explanations, "
              "certainty-based marking, retry of what you missed and mastery per topic."},
]


def existing_demos() -> list[dict]:
    """Only demos whose page exists: the app never shows a placeholder."""
    return [d for d in DEMOS if (ROOT / d["path"]).exists()]
