"""Model zoo: weights/<name>.safetensors + weights/<name>.json (the model card).

Weights load only through safetensors (no pickle) and only after the sha256 in the card matches,
so a swapped or truncated file is refused with a message that says what to do.
torch is imported lazily: listing the zoo (`available`, `card`) must stay cheap for the app shell.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import time
from pathlib import Path

WEIGHTS_DIR = Path(os.environ.get("GENLAB_WEIGHTS", Path(__file__).resolve().parent.parent / "weights"))

# family -> module that provides build(config: dict) -> torch.nn.Module.
# A fixed table (not a module path read from the card) so a card cannot make us import arbitrary code.
FAMILIES = {
    "gan": "genlib.gan",
    "vae": "genlib.vae",
    "ae": "genlib.vae",
    "pixelcnn": "genlib.pixelcnn",
    "classifier": "genlib.classifier",
}

# How each shipped model is (re)made; quoted when its weights are missing.
TRAIN_COMMANDS = {
    "gan-faces": "python -m genlib.train gan",
    "faces-classifier": "python -m genlib.train classifier",
    "vae-mnist": "python -m genlib.train vae --name vae-mnist",
    "vae-fashion": "python -m genlib.train vae --name vae-fashion",
    "ae-mnist": "python -m genlib.train vae --name ae-mnist",
    "vae-mnist-32": "python -m genlib.train vae --name vae-mnist-32",
    "pixelcnn-mnist": "python -m genlib.train pixelcnn",
}


class WeightsError(RuntimeError):
    """A model's weights are missing, corrupt or do not match their model card."""


def _paths(name: str, weights_dir: Path | None) -> tuple[Path, Path]:
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    return d / f"{name}.safetensors", d / f"{name}.json"


def _how_to_make(name: str) -> str:
    cmd = TRAIN_COMMANDS.get(name)
    return f"Train it with `{cmd}`." if cmd else "No training command is known for this name."


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def card(name: str, weights_dir: Path | None = None) -> dict:
    """The model card of `name`; WeightsError when it is missing or unreadable."""
    weights_path, card_path = _paths(name, weights_dir)
    if not card_path.exists():
        raise WeightsError(f"Model '{name}' is not installed: {card_path} is missing. {_how_to_make(name)}")
    try:
        data = json.loads(card_path.read_text())
    except (OSError, ValueError) as e:
        raise WeightsError(f"Model card {card_path} is not valid JSON ({e}). {_how_to_make(name)}") from e
    if not isinstance(data, dict) or "family" not in data:
        raise WeightsError(f"Model card {card_path} has no 'family' field. {_how_to_make(name)}")
    return data


def available(weights_dir: Path | None = None) -> list[dict]:
    """Every readable model card in the weights folder, sorted by name (no weights are loaded)."""
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    cards = []
    for p in sorted(d.glob("*.json")):
        try:
            cards.append(card(p.stem, d))
        except WeightsError:
            continue
    return cards


def load(name: str, weights_dir: Path | None = None):
    """The model `name` in eval mode on CPU, float32, gradients off.

    Raises WeightsError (with the command that makes the file) when the weights are missing,
    truncated, corrupt or differ from the sha256 recorded in the model card.
    """
    info = card(name, weights_dir)
    weights_path, card_path = _paths(name, weights_dir)
    if not weights_path.exists():
        raise WeightsError(f"Model '{name}': {weights_path} is missing. {_how_to_make(name)}")
    blob = weights_path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != info.get("sha256"):
        raise WeightsError(
            f"Model '{name}': {weights_path.name} does not match its model card (sha256 {digest[:12]}… "
            f"instead of {str(info.get('sha256'))[:12]}…): the file is corrupt, truncated or was swapped. "
            f"{_how_to_make(name)}")
    family = info["family"]
    if family not in FAMILIES:
        raise WeightsError(f"Model '{name}': unknown family '{family}' in {card_path.name}.")

    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    try:
        state = load_safetensors(blob)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise WeightsError(f"Model '{name}': {weights_path.name} is not a valid safetensors file ({e}). "
                           f"{_how_to_make(name)}") from e
    model = importlib.import_module(FAMILIES[family]).build(info.get("config", {}))
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise WeightsError(f"Model '{name}': weights do not fit the architecture in its card ({e}). "
                           f"{_how_to_make(name)}") from e
    model.eval().requires_grad_(False)
    model.card = info
    return model


def save(model, name: str, card_fields: dict, weights_dir: Path | None = None, fp16: bool = False) -> dict:
    """Write weights/<name>.safetensors and its model card; returns the card.

    `card_fields` must hold at least family, config, dataset, licence, command, seed and steps;
    name, sha256, parameter count, file size and the time of writing are filled in here.
    """
    import torch
    from safetensors.torch import save_file

    missing = {"family", "config", "dataset", "licence", "command", "seed"} - set(card_fields)
    if missing:
        raise ValueError(f"model card for '{name}' lacks {sorted(missing)}")
    weights_path, card_path = _paths(name, weights_dir)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        if fp16 and v.is_floating_point():
            v = v.half()
        state[k] = v.clone()  # clone: safetensors refuses tensors that share storage
    save_file(state, str(weights_path))
    weights_path.chmod(0o644)  # safetensors writes 0600; the app may run as another user than training
    info = {"name": name, **card_fields,
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "storage": "float16" if fp16 else "float32",
            "file_bytes": weights_path.stat().st_size,
            "sha256": sha256_of(weights_path),
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    card_path.write_text(json.dumps(info, indent=2) + "\n")
    return info


def update_card(name: str, weights_dir: Path | None = None, **fields) -> dict:
    """Merge `fields` into an existing card (e.g. metrics measured after training); weights untouched."""
    info = card(name, weights_dir)
    for k, v in fields.items():
        if isinstance(v, dict) and isinstance(info.get(k), dict):
            info[k] = {**info[k], **v}
        else:
            info[k] = v
    _, card_path = _paths(name, weights_dir)
    card_path.write_text(json.dumps(info, indent=2) + "\n")
    return info
