"""Compiled validators for the contract, built once per infno and cached.

jsonschema-rs does the work: about 6 µs for an envelope here against ~600 µs for
python-jsonschema (``../shared/reference/crypto-and-serving.md``), so validation is never what
limits the mock or the SDK. The validators resolve every ``$ref`` from an in-memory registry of
the contract's documents and never touch the network.

Rules JSON Schema cannot say (msgid carries the institution code and a real time near
inf_time; input size) are checked here too, and reported in the same :class:`ValidationIssue`
shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from threading import Lock
from typing import TYPE_CHECKING, Any, Final

import jsonschema_rs
import orjson

from nhsa.spec._issues import ValidationIssue, pointer_of

if TYPE_CHECKING:
    from nhsa.spec._contract import Contract

_COMPOSITE_RULES = frozenset({"anyOf", "oneOf", "not", "allOf", "contains"})
_SUCCESS = {"enum": [0, "0"]}


class Validators:
    """Request and response validators of one :class:`~nhsa.spec.Contract`, by infno."""

    def __init__(self, contract: Contract) -> None:
        self._contract = contract
        self._registry = jsonschema_rs.Registry(list(contract.documents.items()))
        self._compiled: dict[tuple[str, str], Any] = {}
        self._lock = Lock()

    # -- public checks --------------------------------------------------------------------

    def check_request(self, message: object) -> list[ValidationIssue]:
        """Every problem of a request envelope, its input included (empty list: valid)."""
        if not isinstance(message, Mapping):
            return [ValidationIssue("", "type", "a request envelope must be a JSON object")]
        infno = message.get("infno")
        known = infno if isinstance(infno, str) and infno in self._contract.transactions else None
        validator = self._get(("request", known or ""), lambda: self._request_schema(known))
        issues = self._issues(validator, message)
        if isinstance(infno, str) and known is None and all(i.pointer != "/infno" for i in issues):
            issues.append(
                ValidationIssue(
                    "/infno",
                    "known-transaction",
                    f"infno: unknown transaction {infno!r}; the contract defines "
                    + ", ".join(sorted(self._contract.transactions)),
                )
            )
        issues.extend(self._semantic_issues(message))
        return issues

    def check_response(self, message: object, infno: str | None = None) -> list[ValidationIssue]:
        """Every problem of a response envelope; with ``infno``, its output is checked too."""
        if not isinstance(message, Mapping):
            return [ValidationIssue("", "type", "a response envelope must be a JSON object")]
        if infno is not None:
            self._contract.transaction(infno)
        validator = self._get(("response", infno or ""), lambda: self._response_schema(infno))
        return self._issues(validator, message)

    def check_input(self, infno: str, value: object) -> list[ValidationIssue]:
        """Problems of a transaction's ``input`` object alone (pointers start at ``/input``)."""
        self._contract.transaction(infno)
        validator = self._get(("input", infno), lambda: {"$ref": self._tx_def(infno, "input")})
        return self._issues(validator, value, prefix=("input",))

    def check_output(self, infno: str, value: object) -> list[ValidationIssue]:
        """Problems of a transaction's ``output`` object alone (pointers start at ``/output``)."""
        self._contract.transaction(infno)
        validator = self._get(("output", infno), lambda: {"$ref": self._tx_def(infno, "output")})
        return self._issues(validator, value, prefix=("output",))

    def is_valid_request(self, message: object) -> bool:
        """Fast yes/no for the hot path; call :meth:`check_request` to learn why not."""
        if not isinstance(message, Mapping):
            return False
        infno = message.get("infno")
        if not isinstance(infno, str) or infno not in self._contract.transactions:
            return False
        validator = self._get(("request", infno), lambda: self._request_schema(infno))
        return bool(validator.is_valid(message)) and not self._semantic_issues(message)

    # -- schema assembly ------------------------------------------------------------------

    def _tx_def(self, infno: str, name: str) -> str:
        return f"{self._contract.transaction(infno).schema_id}#/$defs/{name}"

    def _request_schema(self, infno: str | None) -> dict[str, Any]:
        schema: dict[str, Any] = {"$ref": self._contract.uri("envelope/request.json")}
        if infno is not None:
            schema["properties"] = {"input": {"$ref": self._tx_def(infno, "input")}}
        return schema

    def _response_schema(self, infno: str | None) -> dict[str, Any]:
        schema: dict[str, Any] = {"$ref": self._contract.uri("envelope/response.json")}
        if infno is not None and self._contract.transaction(infno).response_body == "json":
            # Only a successful answer must carry the transaction's output nodes.
            schema["if"] = {"properties": {"infcode": _SUCCESS}, "required": ["infcode"]}
            schema["then"] = {
                "properties": {"output": {"$ref": self._tx_def(infno, "output")}},
                "required": ["output"],
            }
        return schema

    def _get(self, key: tuple[str, str], build: Any) -> Any:
        validator = self._compiled.get(key)
        if validator is None:
            with self._lock:
                validator = self._compiled.get(key)
                if validator is None:
                    validator = jsonschema_rs.validator_for(
                        {"$schema": "https://json-schema.org/draft/2020-12/schema", **build()},
                        registry=self._registry,
                        base_uri=self._contract.base_uri,
                    )
                    self._compiled[key] = validator
        return validator

    # -- error rendering ------------------------------------------------------------------

    def _issues(
        self, validator: Any, instance: object, prefix: tuple[str, ...] = ()
    ) -> list[ValidationIssue]:
        return [
            issue
            for error in validator.iter_errors(instance)
            for issue in self._rendered(error, prefix)
        ]

    def _rendered(self, error: Any, prefix: tuple[str, ...]) -> list[ValidationIssue]:
        """The issues of one error; where an ``anyOf`` has one branch of the value's own JSON
        type (an optional field, ``[X, null]``, holding a value; a node given as one object
        or an array, ``[array of X, X]``), what is wrong with it as that branch — its code,
        its shape, its missing field — not "no shape"."""
        inner = self._branch_of_its_type(error)
        if inner is None:
            return [self._render(error, prefix)]
        return [issue for sub in inner for issue in self._rendered(sub, prefix)]

    def _branch_of_its_type(self, error: Any) -> list[Any] | None:
        if _rule_of(error) != "anyOf":
            return None
        schema = self._keyword_owner(error)
        options = schema.get("anyOf") if schema is not None else None
        context = getattr(error.kind, "context", None)
        if not isinstance(options, list) or not context or len(context) != len(options):
            return None
        kind = _json_type(error.instance)
        matching = [index for index, option in enumerate(options) if _admits(option, kind)]
        return list(context[matching[0]]) if len(matching) == 1 else None

    def _render(self, error: Any, prefix: tuple[str, ...]) -> ValidationIssue:
        parts: list[str | int] = [*prefix, *error.instance_path]
        kind = error.kind
        rule = _rule_of(error)
        if rule == "required":
            parts.append(kind.property)
            return ValidationIssue(
                pointer_of(parts), rule, f"{kind.property}: required field is missing"
            )
        field = _field_name(parts)
        if rule == "additionalProperties":
            unexpected = ", ".join(kind.unexpected)
            return ValidationIssue(
                pointer_of(parts),
                rule,
                f"{field}: unknown field(s) {unexpected} (check the spelling against the contract)",
            )
        if "then" in error.schema_path and parts[-1:] == ["insuplc_admdvs"]:
            return ValidationIssue(
                pointer_of(parts),
                "insuplc-when-psn",
                "insuplc_admdvs: required (six digits) because the input carries psn_no; "
                "take it from 1101 insuinfo[].insuplc_admdvs",
            )
        schema = self._keyword_owner(error)
        if schema is not None and isinstance(schema.get("x-rule"), str):
            # A named contract rule (common.json plain_text): its name, not the keyword's.
            rule = str(schema["x-rule"])
            message = (
                f"{field}: {error.instance!r} breaks the rule {rule} ({schema['description']})"
            )
            return ValidationIssue(pointer_of(parts), rule, message)
        if rule in _COMPOSITE_RULES:
            # The instance may be a whole node: printing it would be unreadable and leak data.
            message = f"{field}: does not match any of the shapes the contract allows here ({rule})"
        elif rule == "enum" and schema is not None and "x-names" in schema:
            table = str(schema["$id"]).rsplit("/", 1)[-1].removesuffix(".json")
            message = f"{field}: {error.instance!r} is not a code of {table} ({schema['title']})"
        elif rule == "pattern" and schema is not None and "description" in schema:
            message = f"{field}: {error.instance!r} has the wrong format; {schema['description']}"
        else:
            message = f"{field}: {error.message}"
        return ValidationIssue(pointer_of(parts), rule, message)

    def _keyword_owner(self, error: Any) -> Mapping[str, Any] | None:
        """The schema object holding the failed keyword, found through its absolute location."""
        location = error.absolute_keyword_location
        if not isinstance(location, str) or "#" not in location:
            return None
        document_id, fragment = location.split("#", 1)
        node: Any = self._contract.documents.get(document_id)
        for step in [s for s in fragment.split("/") if s][:-1]:
            if not isinstance(node, Mapping):
                return None
            node = node.get(step.replace("~1", "/").replace("~0", "~"))
        return node if isinstance(node, Mapping) else None

    def _semantic_issues(self, message: Mapping[str, Any]) -> list[ValidationIssue]:
        """Rules JSON Schema cannot say: msgid-prefix, msgid-time, input-size."""
        issues: list[ValidationIssue] = []
        msgid, code = message.get("msgid"), message.get("fixmedins_code")
        if isinstance(msgid, str) and isinstance(code, str) and code and not msgid.startswith(code):
            issues.append(
                ValidationIssue(
                    "/msgid",
                    "msgid-prefix",
                    f"msgid: must start with fixmedins_code {code!r} "
                    "(fixmedins_code + yyyyMMddHHmmss + 4-digit sequence)",
                )
            )
        if isinstance(msgid, str):
            issues.extend(_msgid_time_issues(msgid, message.get("inf_time")))
        value = message.get("input")
        if isinstance(value, Mapping):
            try:
                size = len(orjson.dumps(value, default=str).decode("utf-8"))
            except TypeError:
                size = 0
            infno = message.get("infno")
            transaction = self._contract.transactions.get(infno) if isinstance(infno, str) else None
            limit = transaction.input_max_chars if transaction else 40000
            if size > limit:
                issues.append(
                    ValidationIssue(
                        "/input",
                        "input-size",
                        f"input: {size} characters serialized; {infno} allows at most {limit}",
                    )
                )
        return issues


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else "scalar"


def _admits(option: Mapping[str, Any], kind: str) -> bool:
    """Whether an ``anyOf`` branch is of JSON type ``kind`` (a ``$ref`` names a node or a
    value; only ``null`` and ``array`` branches say so outright)."""
    declared = option.get("type")
    if declared is None:
        return kind not in ("null", "array")
    kinds = [declared] if isinstance(declared, str) else list(declared)
    return kind in kinds or (kind == "scalar" and not {"null", "array", "object"} >= set(kinds))


MSGID_BEHIND: Final = timedelta(seconds=300)
"""How far a msgid's time may lie before inf_time: the replay window (an older msgid reused)."""
MSGID_AHEAD: Final = timedelta(days=1)
"""How far it may lie after: a generator keeps counting from its latest second when the clock
steps back, so its time can run ahead of the wall clock by the size of the step."""


def _msgid_time_issues(msgid: str, inf_time: object) -> list[ValidationIssue]:
    """msgid-time: its 14 digits are a real local time, near the message's inf_time."""
    digits = msgid[12:26]
    if len(msgid) != 30 or not digits.isdigit():
        return []  # the pattern says what is wrong with its shape
    try:  # datetime() itself, not strptime: this runs for every request (≈1 µs, not ≈8)
        issued = datetime(
            int(digits[:4]), int(digits[4:6]), int(digits[6:8]),
            int(digits[8:10]), int(digits[10:12]), int(digits[12:]),
        )  # fmt: skip
    except ValueError:
        return [
            ValidationIssue(
                "/msgid",
                "msgid-time",
                f"msgid: {digits} is not a real time (fixmedins_code + yyyyMMddHHmmss + "
                "4-digit sequence)",
            )
        ]
    text = str(inf_time)
    try:
        built = datetime(
            int(text[:4]), int(text[5:7]), int(text[8:10]),
            int(text[11:13]), int(text[14:16]), int(text[17:19]),
        )  # fmt: skip
    except ValueError:
        return []  # inf_time's own pattern reports it
    if not -MSGID_AHEAD <= built - issued <= MSGID_BEHIND:
        return [
            ValidationIssue(
                "/msgid",
                "msgid-time",
                f"msgid: its time {issued:%Y-%m-%d %H:%M:%S} is too far from inf_time "
                f"{built:%Y-%m-%d %H:%M:%S} (at most {MSGID_BEHIND.seconds} s before it, "
                f"{MSGID_AHEAD.days} day after): use a new msgid for every message",
            )
        ]
    return []


def _rule_of(error: Any) -> str:
    for step in reversed(error.schema_path):
        if isinstance(step, str):
            return str(step)
    return str(type(error.kind).__name__)


def _field_name(parts: list[str | int]) -> str:
    names = [p for p in parts if isinstance(p, str)]
    return names[-1] if names else "envelope"
