"""Where the kit's data folders live: inside an installed wheel, or at the top of a checkout.

The contract (``interface_specs/``) and the conformance data (``conformance/``) sit at the
top of the repository because people read and review them as much as code does. The wheel
carries copies under ``nhsa/_bundled/`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


def data_dir(name: str) -> Path:
    """Return the directory of a bundled data folder (``"interface_specs"`` or ``"conformance"``).

    Example:
        >>> data_dir("interface_specs").joinpath("v1", "common.json").is_file()
        True
    """
    # A checkout wins: an editable install also leaves a snapshot under _bundled/, which
    # would go stale as soon as someone edits the contract.
    checkout = _CHECKOUT_ROOT / name
    if (_CHECKOUT_ROOT / "src" / "nhsa").is_dir() and checkout.is_dir():
        return checkout
    bundled = resources.files("nhsa") / "_bundled" / name
    if bundled.is_dir():
        return Path(str(bundled))
    raise FileNotFoundError(
        f"nhsa-kit data folder {name!r} not found: neither bundled in the installed package "
        f"nor at {checkout}; reinstall nhsa-kit"
    )
