"""nhsa-kit: the hospital side of China's national medical-insurance platform.

Rooms (each a subpackage with one job; arrows point one way):

- :mod:`nhsa.spec` — the interface contract, validation, code tables
- :mod:`nhsa.models` — pydantic models generated from the contract
- :mod:`nhsa.envelope` — msgid, building and parsing envelopes
- :mod:`nhsa.signing` — gateway headers, message signatures, keys, replay guard
- :mod:`nhsa.client` — the SDK a HIS embeds
- :mod:`nhsa.mock` — the mock national platform
- :mod:`nhsa.conformance` — the certification suite
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nhsa-kit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
