"""requirements-cpu.txt (the hosting variant) installs what requirements.txt does, from PyTorch's CPU index."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_cpu_variant_lists_the_same_packages_plus_the_cpu_index():
    app, cpu = requirement_lines("requirements.txt"), requirement_lines("requirements-cpu.txt")
    options = [line for line in cpu if line.startswith("-")]
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]
    assert [line for line in cpu if not line.startswith("-")] == app
    assert not any(line.startswith("-r") for line in cpu), "it replaces requirements.txt on a host: no -r to itself"
