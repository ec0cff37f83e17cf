"""Which signature schemes are on, and how strictly incoming messages are checked.

Example:
    >>> profile = SigningProfile.parse("tif+sm2")
    >>> (profile.tif, profile.sm2, profile.verify, str(profile))
    (True, True, 'require', 'tif+sm2')
    >>> SigningProfile.parse("none").verify
    'off'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from nhsa.signing import _sm2
from nhsa.signing.errors import SigningConfigError

__all__ = ["DEFAULT_USER_ID", "SigningProfile", "VerifyPolicy"]

VerifyPolicy = Literal["require", "if-present", "off"]
"""How a receiver treats the SM2 signature of what it receives.

``require``: an unsigned message is rejected. ``if-present``: a message whose ``signtype`` is
``SM2`` is verified, any other is accepted unsigned (an attacker can strip the signature, so
this is for migrations, not protection). ``off``: signatures are not looked at.
"""

DEFAULT_USER_ID: Final = _sm2.DEFAULT_USER_ID.decode()
_SCHEMES: Final = ("tif", "sm2")
_NONE: Final = "none"


@dataclass(frozen=True, slots=True)
class SigningProfile:
    """The signing set-up of one deployment; both schemes must be named, even when off.

    Attributes:
        tif: send (SDK) or demand (mock) the ``x-tif-*`` gateway headers.
        sm2: sign outgoing messages into ``cainfo``/``signtype`` (SM2 over SM3).
        verify: policy for signatures on incoming messages; ``None`` picks ``require`` when
            ``sm2`` is on and ``off`` when it is not.
        user_id: the SM2 distinguishing id (GM/T 0009 default ``1234567812345678``).

    Example:
        >>> SigningProfile(tif=True, sm2=False)
        SigningProfile(tif=True, sm2=False, verify='off', user_id='1234567812345678')
    """

    tif: bool
    sm2: bool
    verify: VerifyPolicy | None = None
    user_id: str = DEFAULT_USER_ID

    def __post_init__(self) -> None:
        if self.verify is None:
            object.__setattr__(self, "verify", "require" if self.sm2 else "off")
        elif self.verify not in get_args(VerifyPolicy):
            raise SigningConfigError(
                f"verify policy {self.verify!r} is not one of {', '.join(get_args(VerifyPolicy))}",
                field="verify",
                rule="enum",
            )
        user_id = self.user_id.encode()
        if not 0 < len(user_id) <= _sm2.MAX_USER_ID_BYTES:
            raise SigningConfigError(
                f"SM2 user id must be 1-{_sm2.MAX_USER_ID_BYTES} bytes, got {len(user_id)}",
                field="user_id",
                rule="length",
            )

    @classmethod
    def parse(
        cls, text: str, *, verify: VerifyPolicy | None = None, user_id: str = DEFAULT_USER_ID
    ) -> SigningProfile:
        """A profile from ``"none"``, ``"tif"``, ``"sm2"`` or ``"tif+sm2"`` (any order or case).

        Example:
            >>> SigningProfile.parse("SM2 + tif", verify="if-present").verify
            'if-present'
        """
        names = [part.strip().lower() for part in text.split("+")]
        if names == [_NONE]:
            return cls(tif=False, sm2=False, verify=verify, user_id=user_id)
        unknown = [name for name in names if name not in _SCHEMES]
        if unknown or len(set(names)) != len(names):
            raise SigningConfigError(
                f"signing profile {text!r}: expected 'none' or schemes from "
                f"{', '.join(_SCHEMES)} joined by '+', e.g. 'tif+sm2'",
                field="profile",
                rule="syntax",
            )
        return cls(tif="tif" in names, sm2="sm2" in names, verify=verify, user_id=user_id)

    @property
    def policy(self) -> VerifyPolicy:
        """``verify`` with its default resolved (never ``None`` after construction)."""
        return self.verify or "off"

    @property
    def user_id_bytes(self) -> bytes:
        """The SM2 user id as the bytes that enter ``Z_A``."""
        return self.user_id.encode()

    def __str__(self) -> str:
        names = [name for name in _SCHEMES if getattr(self, name)]
        return "+".join(names) or _NONE
