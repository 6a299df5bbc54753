"""Training entry points: `python -m genlib.train {gan,classifier,vae,pixelcnn,pixelrnn} ... [--dry-run] [--resume]`.

One module per model family (genlib/train/<family>.py), each with `add_arguments(parser)` and `main(args)`
that keep only the model's own parts (its shape, one optimizer step, its evaluation); the run itself (folder,
resume, checkpoints, log, EMA, the loop, dry-run data) is common.py's Run, and the PixelCNN and PixelRNNs
share one trainer, autoregressive.py.
"""
