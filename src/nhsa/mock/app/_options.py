"""The server's settings: limits, the default signing profile, and test-only switches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_BODY_BYTES", "ServerOptions"]

MAX_BODY_BYTES: Final = 1 << 20
"""1 MiB: a request body above this is refused before it is parsed."""


@dataclass(frozen=True)
class ServerOptions:
    """How the mock's HTTP app behaves.

    Attributes:
        default_profile: signing profile of institutions registered without one
            (``none``, ``tif``, ``sm2``, ``tif+sm2``).
        default_dialect: the province dialect of institutions registered without one
            (``interface_specs/v1/dialects``: national, guangdong, jilin, …).
        allow_fault_header: honour the test-only ``x-mock-fault`` request header.
        max_body_bytes: largest request body accepted.
        max_hang_seconds: how long a hanging answer holds the connection before it is reset.
        admin_token: the bearer token of the admin API; ``None`` leaves it closed to all.
        timestamp_window_seconds: accepted skew of ``x-tif-timestamp`` (and nonce memory).
        group_commit: on SQLite, requests that arrive while a COMMIT is written share the next
            one (:class:`~nhsa.mock.store.GroupCommit`); off, each commits alone.

    Example::

        options = ServerOptions(default_profile="tif+sm2", allow_fault_header=True)
        core = PlatformCore(store, engine, fixtures, options=options)
    """

    default_profile: str = "none"
    default_dialect: str = "national"
    allow_fault_header: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    max_hang_seconds: float = 600.0
    admin_token: str | None = None
    timestamp_window_seconds: float = 300.0
    group_commit: bool = True
