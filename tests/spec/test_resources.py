"""The contract loads from a checkout and from an installed wheel."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from nhsa._resources import data_dir
from tests.wheels import REPO, build_wheel, clean_venv, dev_site_packages, site_packages_of


def test_checkout_wins_over_a_stale_bundled_copy() -> None:
    assert data_dir("interface_specs") == REPO / "interface_specs"


@pytest.mark.slow
def test_wheel_carries_the_contract_and_validates_outside_the_checkout(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    # The dependencies come from the test environment; nhsa itself only from the wheel.
    python = clean_venv(tmp_path / "venv", wheel, dev_site_packages()) / "python"
    site = site_packages_of(python)
    example = REPO / "interface_specs" / "v1" / "transactions" / "2207.json"
    request = json.loads(example.read_text("utf-8"))["examples"][0]["request"]
    probe = textwrap.dedent(
        """
        import json, sys
        import nhsa
        from nhsa import spec
        from nhsa.models import Input2207
        request = json.loads(sys.stdin.read())
        root = spec.contract().root
        print(json.dumps({
            "module": nhsa.__file__,
            "root": str(root),
            "valid": spec.validate_request(request) == [],
            "broken": [i.rule for i in spec.validate_request({**request, "msgid": "x"})],
            "model": Input2207.model_validate(request["input"]).data.psn_no,
        }))
        """
    )
    result = subprocess.run(
        [str(python), "-c", probe],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["module"].startswith(site)
    assert report["root"].startswith(site)
    assert "_bundled" in report["root"]
    assert report["valid"] is True
    assert "pattern" in report["broken"]
    assert report["model"] == request["input"]["data"]["psn_no"]
