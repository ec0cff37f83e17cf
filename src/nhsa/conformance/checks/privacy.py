"""Privacy: what the HIS exposes through the driver holds no identity numbers, cards or tokens.

Names are not counted: a kiosk greeting its own patient by name is normal. Identity numbers
(any 18-character resident ID with a valid GB 11643 check character), card numbers, card
identification codes and e-voucher tokens are: none of them belongs in an operator note, a
patient message or anything a lab report may quote.

Example:
    >>> looks_like_id_number("530102198503150018 is valid")
    True
    >>> looks_like_id_number("530102198503150019")
    False
"""

from __future__ import annotations

from typing import Any

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._registry import check
from nhsa.conformance.checks._common import verdict
from nhsa.idcard import id_numbers_in

__all__ = ["looks_like_id_number", "no_personal_data_exposed"]


def looks_like_id_number(text: str) -> bool:
    """Whether ``text`` contains a resident ID number with a valid check character."""
    return next(id_numbers_in(text), None) is not None


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    return []


@check("no_personal_data_exposed", verifies=["HIS-PRV-001"])
def no_personal_data_exposed(ctx: CheckContext) -> CheckOutcome:
    """The HIS's results and messages contain no identity number, card number, card_sn or token.

    Example::

        expect:
          checks: [no_personal_data_exposed]
    """
    secrets: list[tuple[str, str]] = []
    for patient in ctx.plan.patients.values():
        person = patient.person
        card = person.certificates.social_security_card
        secrets += [
            (person.certno, f"identity number of patient {patient.alias}"),
            (card.card_no, f"card number of patient {patient.alias}"),
            (card.card_sn, f"card_sn of patient {patient.alias}"),
            (person.certificates.ec_token, f"e-voucher token of patient {patient.alias}"),
        ]
    problems: list[Evidence] = []
    results = list(ctx.iter_results())
    for step, result in results:
        texts = _texts(result.as_dict())
        found = sorted(
            {label for secret, label in secrets for t in texts if secret and secret in t}
        )
        if any(looks_like_id_number(t) for t in texts) and not any("identity" in f for f in found):
            found.append("a resident identity number")
        if found:
            problems.append(
                Evidence(
                    "no personal identifiers in the result",
                    "; ".join(found),
                    step.records,
                    step.name,
                )
            )
    if not results:
        return not_applicable("no step returned a result")
    return verdict(
        problems,
        f"none of {len(results)} results exposes an identifier",
        "results exposing personal identifiers",
    )
