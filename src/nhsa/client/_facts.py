"""What the journal keeps of a message: identifiers and amounts, never personal data.

Example:
    >>> from decimal import Decimal
    >>> facts, amounts = facts_of({"data": {"psn_no": "P1", "mdtrt_cert_no": "530102198503150018",
    ...                                     "medfee_sumamt": Decimal("120.00")}})
    >>> (facts, amounts)
    ({'psn_no': 'P1'}, {'medfee_sumamt': Decimal('120.00')})
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from nhsa.redaction import redact

_DEMOGRAPHICS = frozenset({"brdy", "gend", "naty", "age"})


def facts_of(nodes: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Decimal]]:
    """Identifiers, codes and amounts of a message's nodes.

    Object nodes give their scalar members (demographics — birth date, sex, ethnicity, age —
    are left out with the other personal data); a list node (fee lines) gives the members all its
    items share (``mdtrt_id``, ``chrg_bchno``) and the sum of each amount, as ``sum(name)``,
    with ``count(node)`` items. Values that :func:`nhsa.redaction.redact` would mask
    (certificate numbers, names, tokens) are left out.
    """
    facts: dict[str, str] = {}
    amounts: dict[str, Decimal] = {}
    for name, node in nodes.items():
        if isinstance(node, Mapping):
            _collect(node, facts, amounts)
        elif isinstance(node, list) and node and all(isinstance(i, Mapping) for i in node):
            facts[f"count({name})"] = str(len(node))
            shared = {
                key: value
                for key, value in node[0].items()
                if isinstance(value, str) and all(item.get(key) == value for item in node)
            }
            _collect(shared, facts, amounts)
            for key in node[0]:
                if all(isinstance(item.get(key), Decimal) for item in node):
                    amounts[f"sum({key})"] = sum((item[key] for item in node), Decimal(0))
    return facts, amounts


def _collect(node: Mapping[str, Any], facts: dict[str, str], amounts: dict[str, Decimal]) -> None:
    for key, value in node.items():
        if key in _DEMOGRAPHICS:
            continue
        if isinstance(value, Decimal):
            amounts[key] = value
        elif isinstance(value, str | int | date) and not isinstance(value, bool):
            text = value.isoformat() if isinstance(value, date) else str(value)
            if redact({key: text})[key] == text:
                facts[key] = text
