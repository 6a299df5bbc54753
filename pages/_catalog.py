"""The demos GenLab offers, in lecture order. app.py registers only those whose page file exists,
and the home page draws one card for each of them. Kept free of torch so the shell starts fast."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One entry per demo: path, title, icon, density (the lecture's taxonomy) and blurb. A data file, so that adding a
# demo is an edit of data, not of code.
DEMOS = json.loads((ROOT / "pages" / "catalog.json").read_text(encoding="utf-8"))


def existing_demos() -> list[dict]:
    """Only demos whose page exists: the app never shows a placeholder."""
    return [d for d in DEMOS if (ROOT / d["path"]).exists()]
