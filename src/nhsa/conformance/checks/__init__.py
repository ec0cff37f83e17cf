"""The built-in checks, one module per theme; importing this package registers them all.

========================  ===================================================================
``envelope``              contract validity, msgid rules, the institution's own codes, signing
``session``               sign-in before business calls, sign_no carried, re-sign-in
``modes``                 window vs kiosk: opter_type, dev_no, certificate types, patient told
``amounts``               insured area from 1101, 2207 echoes 2206, totals match the fee lines
``reversal``              unknown outcomes reversed (2601), never resent; no reversal of failures
``visits``                registration cancelled only after reversal; full and partial refunds
``stays``                 inpatient: fees within the stay, totals, discharge before the final
                          settlement, cancellations newest first, the password medium
``ledger``                the driver's account matches the platform; nothing lost or doubled
``reconciliation``        day-end 3201 balanced against the ledger; 3202 when unbalanced
``downtime``              no pile-on while an insured place is down; patient told when to return
``privacy``               no identity numbers, card numbers or tokens in what the HIS exposes
``chronic``               门慢/门特: the disease travels with the visit; no ordinary fallback
                          after a refused disease; 2503/2504 name the right parties
========================  ===================================================================

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["reversal_after_unknown_2207"].verifies
    ('HIS-REV-002', 'HIS-REV-003', 'HIS-SIG-002')
"""

from nhsa.conformance.checks import (
    amounts,
    chronic,
    downtime,
    envelope,
    ledger,
    modes,
    privacy,
    reconciliation,
    reversal,
    session,
    stays,
    visits,
)

__all__ = [
    "amounts",
    "chronic",
    "downtime",
    "envelope",
    "ledger",
    "modes",
    "privacy",
    "reconciliation",
    "reversal",
    "session",
    "stays",
    "visits",
]
