"""Training entry points: `python -m genlib.train {gan,classifier,vae,pixelcnn} ... [--dry-run] [--resume]`.

One module per model family (genlib/train/<family>.py), each with `add_arguments(parser)` and
`main(args)`; shared bits (checkpoints, CSV logs, timing) live in common.py.
"""
