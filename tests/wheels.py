"""Build the kit's wheel and install it into a clean virtual environment, offline.

A clean environment gets nhsa-kit only from the wheel, and its dependencies from this test
environment — all of them (:func:`dev_site_packages`), or only those the wheel itself requires
without extras (:func:`dependency_view`), which is what ``pip install nhsa-kit`` gives a HIS
vendor. The view links each needed distribution (its packages, modules and ``.dist-info``)
from this environment's site-packages into one folder, so nothing is downloaded and nothing
outside the view is importable; ``pip check`` in the new environment proves the view holds
everything the wheel's metadata asks for.
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def build_wheel(folder: Path) -> Path:
    """The wheel of this checkout, built into ``folder``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(folder),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = folder.glob("nhsa_kit-*.whl")
    return wheel


def dev_site_packages() -> Path:
    """This test environment's site-packages (every dependency of every extra)."""
    return Path(sysconfig.get_paths()["purelib"])


def wheel_requirements(wheel: Path, extras: frozenset[str] = frozenset()) -> list[Requirement]:
    """What the wheel's metadata requires when installed with ``extras``."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        message = email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))
    return _applicable(
        [Requirement(text) for text in message.get_all("Requires-Dist") or []], extras
    )


def dependency_view(requirements: list[Requirement], folder: Path) -> Path:
    """``folder`` holding links to exactly the distributions ``requirements`` pull in."""
    folder.mkdir(parents=True)
    seen: set[str] = set()
    pending = list(requirements)
    while pending:
        requirement = pending.pop()
        key = canonicalize_name(requirement.name)
        if key in seen:
            continue
        seen.add(key)
        distribution = metadata.distribution(requirement.name)
        for top in {Path(str(f)).parts[0] for f in distribution.files or ()}:
            if top not in ("..", "__pycache__") and not (folder / top).exists():
                (folder / top).symlink_to(distribution.locate_file(top))
        wanted = [Requirement(text) for text in distribution.requires or ()]
        pending += _applicable(wanted, frozenset(requirement.extras))
    return folder


def clean_venv(folder: Path, wheel: Path, dependencies: Path) -> Path:
    """A new virtual environment with the wheel installed and ``dependencies`` on its path;
    returns its ``bin`` folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    Path(site_packages_of(python), "test-dependencies.pth").write_text(
        f"{dependencies}\n", encoding="utf-8"
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
    )  # fmt: skip
    return folder / "bin"


def site_packages_of(python: Path) -> str:
    """Where ``python`` installs pure-Python packages."""
    return subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _applicable(requirements: list[Requirement], extras: frozenset[str]) -> list[Requirement]:
    chosen = extras or frozenset({""})
    return [
        r
        for r in requirements
        if r.marker is None or any(r.marker.evaluate({"extra": extra}) for extra in chosen)
    ]
