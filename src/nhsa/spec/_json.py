"""Parsing message bytes into Python values, reporting malformed JSON as a ValidationIssue."""

from __future__ import annotations

import json
from typing import Any

from nhsa.spec._issues import ValidationIssue


def parse_json(raw: bytes | str) -> tuple[Any, list[ValidationIssue]]:
    """Parse a message; on malformed JSON return ``(None, [issue])`` naming line and column.

    Example:
        >>> parse_json(b'{"infno": }')[1][0].rule
        'json'
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        return None, [ValidationIssue("", "encoding", f"message is not UTF-8: {exc.reason}")]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [
            ValidationIssue(
                "", "json", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            )
        ]
