"""GenLab's models: pure PyTorch, never imports streamlit.

`import genlib` is cheap (no torch): torch is imported only when a model is loaded or saved.
"""
from genlib.zoo import WeightsError, available, card, load, save

__all__ = ["WeightsError", "available", "card", "load", "save"]
