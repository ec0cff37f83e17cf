"""Counter modes: who is operating, which certificates they take, what an unknown outcome does.

- :class:`WindowMode` — a cashier (经办人, ``opter_type`` 1). Accepts every certificate type
  (01 e-voucher, 02 ID card, 03 social-security card). An unknown outcome is reversed
  automatically and reported to the cashier, or — with ``on_unknown="hold"`` — held for the
  cashier to decide (``client.reverse_held``).
- :class:`KioskMode` — a self-service terminal (自助终端, ``opter_type`` 2) with ``dev_no`` and
  ``dev_safe_info``. Accepts only the e-voucher (01) and the social-security card (03): an ID
  number typed on a kiosk screen is refused before anything is sent. Nobody stands there to
  fix a half-done settlement, so an unknown outcome is always reversed at once and the patient
  is told, in Chinese and English.

Example:
    >>> WindowMode("C0001", "收费员甲").operator.opter_type
    '1'
    >>> KioskMode("K01", "SAFE-K01", "K01", "自助机1号").accepted_certificates
    ('01', '03')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nhsa.client._validation import check_text
from nhsa.client.errors import InvalidInputError
from nhsa.envelope import Operator

OnUnknown = Literal["reverse", "hold"]


@dataclass(frozen=True)
class WindowMode:
    """A staffed window: ``opter_type`` 1, every certificate type.

    Args:
        opter: the cashier's operator number (经办人编号, ≤ 30 characters).
        opter_name: the cashier's name (≤ 50 characters).
        on_unknown: ``"reverse"`` undoes an unknown outcome at once (2601 or the business
            cancel) and reports it; ``"hold"`` leaves it ``held`` in the journal for the
            cashier to decide.

    Example:
        >>> WindowMode("C0001", "收费员甲", on_unknown="retry")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: on_unknown: 'retry' must be 'reverse' or 'hold'
    """

    opter: str
    opter_name: str
    on_unknown: OnUnknown = "reverse"

    def __post_init__(self) -> None:
        check_text(self.opter, "opter", 30)
        check_text(self.opter_name, "opter_name", 50)
        if self.on_unknown not in ("reverse", "hold"):
            raise InvalidInputError(
                f"on_unknown: {self.on_unknown!r} must be 'reverse' or 'hold'",
                field="on_unknown",
                rule="enum",
            )

    @property
    def operator(self) -> Operator:
        """The envelope's operator fields."""
        return Operator("1", self.opter, self.opter_name)

    @property
    def accepted_certificates(self) -> tuple[str, ...]:
        """mdtrt_cert_type codes a window accepts: all three."""
        return ("01", "02", "03")

    @property
    def name(self) -> str:
        """How messages refer to this mode."""
        return "a window"


@dataclass(frozen=True)
class KioskMode:
    """A self-service terminal: ``opter_type`` 2, e-voucher (01) and card (03) only.

    Args:
        dev_no: device number (设备编号, ≤ 100 characters).
        dev_safe_info: device security information (设备安全信息, ≤ 2000 characters).
        terminal_id: the terminal's number, sent as ``opter`` (≤ 30 characters).
        terminal_name: the terminal's name, sent as ``opter_name`` (≤ 50 characters).

    Example:
        >>> operator = KioskMode("K01", "SAFE-K01", "K01", "自助机1号").operator
        >>> (operator.opter_type, operator.opter, operator.dev_no, operator.dev_safe_info)
        ('2', 'K01', 'K01', 'SAFE-K01')
    """

    dev_no: str
    dev_safe_info: str
    terminal_id: str
    terminal_name: str

    def __post_init__(self) -> None:
        check_text(self.dev_no, "dev_no", 100)
        check_text(self.dev_safe_info, "dev_safe_info", 2000)
        check_text(self.terminal_id, "terminal_id", 30)
        check_text(self.terminal_name, "terminal_name", 50)

    @property
    def on_unknown(self) -> OnUnknown:
        """Always ``"reverse"``: a kiosk cannot leave a half-done settlement standing."""
        return "reverse"

    @property
    def operator(self) -> Operator:
        """The envelope's operator fields, device fields included."""
        return Operator(
            "2",
            self.terminal_id,
            self.terminal_name,
            dev_no=self.dev_no,
            dev_safe_info=self.dev_safe_info,
        )

    @property
    def accepted_certificates(self) -> tuple[str, ...]:
        """mdtrt_cert_type codes a kiosk accepts: e-voucher 01 and social-security card 03."""
        return ("01", "03")

    @property
    def name(self) -> str:
        """How messages refer to this mode."""
        return "a kiosk"


Mode = WindowMode | KioskMode
