"""``pip install nhsa-kit`` without extras — what a HIS vendor installs — runs the ``nhsa``
command: help, the contract, keys; a command needing an extra says which, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wheels import build_wheel, clean_venv, dependency_view, wheel_requirements

EXTRA_ONLY = ("yaml", "starlette", "uvicorn", "jinja2")


@pytest.fixture(scope="module")
def sdk_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a clean venv holding the wheel and only its core dependencies."""
    root = tmp_path_factory.mktemp("sdk-only")
    wheel = build_wheel(root / "dist")
    view = dependency_view(wheel_requirements(wheel), root / "dependencies")
    return clean_venv(root / "venv", wheel, view)


def _run(bin_dir: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"COLUMNS": "200", "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        [str(bin_dir / command[0]), *command[1:]],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_the_sdk_alone_is_a_complete_install_without_the_extras(
    sdk_only: Path, tmp_path: Path
) -> None:
    # Every requirement of the wheel (without extras) is met by the core dependencies alone.
    checked = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(sdk_only / "python"), "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for module in EXTRA_ONLY:
        probe = _run(sdk_only, "python", "-c", f"import {module}", cwd=tmp_path)
        assert f"No module named '{module}'" in probe.stderr, module
    sdk = _run(
        sdk_only, "python", "-c", "import nhsa.client, nhsa.signing; print('ok')", cwd=tmp_path
    )
    assert sdk.stdout.strip() == "ok", sdk.stderr


@pytest.mark.slow
def test_help_spec_and_keys_run_without_the_extras(sdk_only: Path, tmp_path: Path) -> None:
    helped = _run(sdk_only, "nhsa", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for group in ("spec", "keys", "mock", "conformance", "demo"):
        assert f" {group} " in helped.stdout, group
    listed = _run(sdk_only, "nhsa", "spec", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "2207" in listed.stdout
    assert "Traceback" not in helped.stderr + listed.stderr
    keys = _run(sdk_only, "nhsa", "keys", "new", "--lab", "lab", cwd=tmp_path)
    assert keys.returncode == 0, keys.stderr
    assert (tmp_path / "lab.sm2.key.pem").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (("mock", "serve", "--port", "0"), "mock"),
        (("mock", "transcript", "--tenant", "H53010100001"), "mock"),
        (("conformance", "list"), "conformance"),
        (("conformance", "sign", "report.json", "--key", "lab.sm2.key.pem"), "conformance"),
        (("demo",), "conformance"),
    ],
)
def test_a_command_needing_an_extra_names_it_in_one_line(
    sdk_only: Path, tmp_path: Path, command: tuple[str, ...], extra: str
) -> None:
    result = _run(sdk_only, "nhsa", *command, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"needs the {extra} extra" in lines[0]
    assert f"pip install 'nhsa-kit[{extra}]'" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written: no database, no report
