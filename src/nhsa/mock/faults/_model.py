"""What a fault is: its kind, its scope, when it fires, and its parameters.

A fault is data (:class:`FaultSpec`), validated the same way whether it arrives as admin-API
JSON, as keyword arguments of :meth:`MockPlatform.arm_fault`, or from the test-only
``x-mock-fault`` header. Each kind acts at one **stage** of a call:

- ``before`` — the request is *not* processed: nothing is committed, the answer is replaced
  (``business-error``, ``insured-place-downtime``, ``insured-place-unreachable``,
  ``http-error``) or withheld (``hang``, ``reset``);
- ``after`` — the engine processed and committed the request; the answer is then delayed
  (``latency``), mangled (``empty-body``, ``garbled-body``, ``bad-signature``,
  ``http-error`` with ``after_commit``) or withheld (``commit-then-drop``).

Example:
    >>> spec = FaultSpec.model_validate({"kind": "commit-then-drop", "infno": "2207"})
    >>> (spec.infno, spec.times, spec.stage, spec.drop_mode)
    (('2207',), 1, 'after', 'hang')
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["FaultKind", "FaultSpec", "FaultSpecError", "Stage", "Withhold", "parse_fault_spec"]

Stage = Literal["before", "after"]
Withhold = Literal["hang", "reset"]
"""How an answer is withheld: the connection stays silent, or is torn down."""

MAX_LATENCY_MS: Final = 600_000
DEFAULT_HTTP_STATUS: Final = 503
"""The status of an ``http-error`` fault armed without one."""


class FaultKind(StrEnum):
    """Every way the mock platform can misbehave on purpose.

    Example::

        mock.arm_fault("H53010100001", FaultKind.COMMIT_THEN_DROP, infno="2207", mode="reset")
    """

    LATENCY = "latency"
    """Answer after ``ms`` milliseconds (the request is processed first)."""
    HANG = "hang"
    """Never answer; hold the connection until the client gives up. Nothing is processed."""
    RESET = "reset"
    """Abort the TCP connection with no answer. Nothing is processed."""
    HTTP_ERROR = "http-error"
    """Answer HTTP ``status`` (5xx) with a gateway error page instead of an envelope."""
    EMPTY_BODY = "empty-body"
    """Process the request, then answer HTTP 200 with no body at all."""
    GARBLED_BODY = "garbled-body"
    """Process the request, then answer a truncated, corrupted body."""
    BUSINESS_ERROR = "business-error"
    """Answer infcode -1 with a realistic ``err_msg``. Nothing is processed."""
    BAD_SIGNATURE = "bad-signature"
    """Process the request, then answer with a ``cainfo`` signature that does not verify."""
    INSURED_PLACE_DOWNTIME = "insured-place-downtime"
    """Answer as if the insured place's system were down for maintenance (停机)."""
    INSURED_PLACE_UNREACHABLE = "insured-place-unreachable"
    """The platform cannot reach the insured place: infcode -1 (``mode`` error) or a hang."""
    COMMIT_THEN_DROP = "commit-then-drop"
    """Process and commit the request, then never answer (``mode`` hang or reset)."""


_AFTER: Final = frozenset(
    {
        FaultKind.LATENCY,
        FaultKind.EMPTY_BODY,
        FaultKind.GARBLED_BODY,
        FaultKind.BAD_SIGNATURE,
        FaultKind.COMMIT_THEN_DROP,
    }
)
_MODES: Final[dict[FaultKind, tuple[str, ...]]] = {
    FaultKind.COMMIT_THEN_DROP: ("hang", "reset"),
    FaultKind.INSURED_PLACE_UNREACHABLE: ("error", "hang"),
}


class FaultSpecError(ValueError):
    """A fault description that cannot be armed; names the field and the rule it breaks.

    Example:
        >>> error = FaultSpecError("ms", "required", "a latency fault needs ms")
        >>> str(error)
        'fault ms: [required] a latency fault needs ms'
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"fault {field}: [{rule}] {message}")
        self.field = field
        self.rule = rule
        self.message = message


class FaultSpec(BaseModel):
    """One fault to arm: kind, scope, trigger and parameters.

    Attributes:
        kind: what happens (:class:`FaultKind`).
        infno: only calls of these transactions (``None``: any).
        psn_no: only calls whose input names this person.
        area: only calls whose envelope ``insuplc_admdvs`` is this 6-digit area code.
        times: fires on the next ``times`` matching calls, then disarms (``None``: forever).
        probability: each matching call fires with this chance, drawn from ``random.Random(seed)``
            (so a run is reproducible); 1 fires every time.
        seed: seed of the draw above.
        ms: delay of a ``latency`` fault, in milliseconds.
        status: HTTP status of an ``http-error`` fault (500-599; 503 when not given); refused
            on every other kind, which never answers with it.
        after_commit: ``http-error`` only: process and commit first (a gateway 504 after the
            backend settled), instead of failing before processing.
        err_msg: text of a ``business-error`` answer (a realistic default otherwise).
        mode: ``commit-then-drop``: ``hang`` (default) or ``reset``;
            ``insured-place-unreachable``: ``error`` (default) or ``hang``.

    Example:
        >>> FaultSpec(kind=FaultKind.LATENCY, ms=250, infno=("2207", "2206")).stage
        'after'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    infno: tuple[str, ...] | None = None
    psn_no: str | None = Field(default=None, min_length=1, max_length=30)
    area: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    times: int | None = Field(default=1, ge=1)
    probability: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int = 0
    ms: int | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    status: int | None = Field(default=None, ge=500, le=599)
    after_commit: bool = False
    err_msg: str | None = Field(default=None, min_length=1, max_length=200)
    mode: str | None = None

    @field_validator("infno", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("infno")
    @classmethod
    def _infno_shape(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("give at least one infno, or leave it out for every transaction")
            for infno in value:
                if not (4 <= len(infno) <= 6 and infno[:4].isdigit()):
                    raise ValueError(f"{infno!r} is not a transaction code like 2207 or 2203A")
        return value

    @model_validator(mode="after")
    def _parameters_fit_the_kind(self) -> FaultSpec:
        if self.kind is FaultKind.LATENCY and self.ms is None:
            raise _parameter_error("ms", "required", "a latency fault needs ms (milliseconds)")
        if self.kind is not FaultKind.LATENCY and self.ms is not None:
            raise _parameter_error("ms", "kind", "ms applies to latency faults only")
        if self.status is not None and self.kind is not FaultKind.HTTP_ERROR:
            raise _parameter_error(
                "status", "kind", "applies to http-error faults only (the others send no status)"
            )
        if self.after_commit and self.kind is not FaultKind.HTTP_ERROR:
            raise _parameter_error("after_commit", "kind", "applies to http-error faults only")
        if self.err_msg is not None and self.kind is not FaultKind.BUSINESS_ERROR:
            raise _parameter_error("err_msg", "kind", "applies to business-error faults only")
        allowed = _MODES.get(self.kind)
        if self.mode is not None and (allowed is None or self.mode not in allowed):
            choices = f"one of {', '.join(allowed)}" if allowed else "not used by this kind"
            raise _parameter_error(
                "mode", "enum", f"{self.mode!r} for {self.kind.value}: {choices}"
            )
        return self

    @property
    def stage(self) -> Stage:
        """``after`` when the request is processed and committed before the fault acts."""
        if self.kind in _AFTER or (self.kind is FaultKind.HTTP_ERROR and self.after_commit):
            return "after"
        return "before"

    @property
    def http_status(self) -> int:
        """The HTTP status an ``http-error`` fault answers with.

        Example:
            >>> FaultSpec(kind=FaultKind.HTTP_ERROR).http_status
            503
        """
        return self.status if self.status is not None else DEFAULT_HTTP_STATUS

    @property
    def drop_mode(self) -> Withhold | None:
        """``hang`` or ``reset`` for kinds that withhold the answer; ``None`` otherwise."""
        if self.kind is FaultKind.HANG:
            return "hang"
        if self.kind is FaultKind.RESET:
            return "reset"
        if self.kind is FaultKind.COMMIT_THEN_DROP:
            return "reset" if self.mode == "reset" else "hang"
        if self.kind is FaultKind.INSURED_PLACE_UNREACHABLE and self.mode == "hang":
            return "hang"
        return None

    def describe(self) -> dict[str, Any]:
        """The fault as plain JSON data, without defaults that say nothing.

        Example:
            >>> FaultSpec(kind=FaultKind.RESET).describe()
            {'kind': 'reset', 'times': 1, 'stage': 'before'}
        """
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["kind"] = self.kind.value
        data.setdefault("times", self.times)
        data["stage"] = self.stage
        return data


def _parameter_error(field: str, rule: str, detail: str) -> PydanticCustomError:
    return PydanticCustomError(
        "fault_parameter", "{detail}", {"field": field, "rule": rule, "detail": detail}
    )


def parse_fault_spec(data: object) -> FaultSpec:
    """Validate ``data`` (a mapping) into a :class:`FaultSpec`, or :class:`FaultSpecError`.

    Example:
        >>> try:
        ...     parse_fault_spec({"kind": "latency"})
        ... except FaultSpecError as error:
        ...     print(error.field, error.rule)
        ms required
    """
    if isinstance(data, FaultSpec):
        return data
    if not isinstance(data, dict):
        raise FaultSpecError("", "type", 'a fault is a JSON object such as {"kind": "reset"}')
    try:
        return FaultSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        context = first.get("ctx") or {}
        location = context.get("field") or ".".join(str(part) for part in first["loc"])
        rule = context.get("rule") or ("rule" if first["type"] == "value_error" else first["type"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise FaultSpecError(location, rule, message) from None
