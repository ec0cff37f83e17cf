"""The public surface: pinned exports, docstrings with examples, fresh generated calls."""

from __future__ import annotations

import inspect

import nhsa.client
from nhsa.client import AsyncClient, Client, _codegen
from nhsa.spec import contract

EXPORTS = [
    "LOAD_BEARING",
    "AlreadySettledError",
    "AnswerPatterns",
    "AnswerWarning",
    "AsyncClient",
    "Attempt",
    "BreakerPolicy",
    "BusinessError",
    "Certificate",
    "Charge",
    "ChronicDisease",
    "ChronicRegistration",
    "Client",
    "ClientConfig",
    "Clinic",
    "Diagnosis",
    "DowntimeNotice",
    "FeeBatch",
    "FeeLine",
    "ForbiddenCertificateError",
    "GroupReconciliation",
    "Held",
    "InsuredPlaceOffline",
    "InvalidInputError",
    "Journal",
    "JournalEntry",
    "KioskMode",
    "LedgerTotals",
    "LoadBearing",
    "Mode",
    "NeedsManualDecision",
    "NhsaClientError",
    "NotSent",
    "NotSentError",
    "Outcome",
    "OutcomeUnknownError",
    "PatientMessage",
    "Recognition",
    "ReconcileReport",
    "RecoveredEntry",
    "RecoveryReport",
    "Refund",
    "Registration",
    "Rejected",
    "Resolution",
    "ResultRow",
    "RetryPolicy",
    "Reversed",
    "SettlementMismatchError",
    "SettlementTotals",
    "Shortfall",
    "SignInError",
    "Stay",
    "StayCancellation",
    "StaySettlement",
    "StillPending",
    "Succeeded",
    "Timeouts",
    "Unknown",
    "UnusableAnswerError",
    "VisitBusyError",
    "VisitNotInJournalError",
    "Ward",
    "WindowMode",
    "errors",
]


def test_exported_members_are_pinned() -> None:
    assert nhsa.client.__all__ == EXPORTS
    for name in EXPORTS:
        assert getattr(nhsa.client, name) is not None


def test_every_public_class_and_method_has_a_docstring_with_an_example() -> None:
    missing = []
    for name in EXPORTS:
        member = getattr(nhsa.client, name)
        if not (inspect.isclass(member) or inspect.ismodule(member)):
            continue
        if "Example" not in (member.__doc__ or ""):
            missing.append(name)
    for client in (Client, AsyncClient):
        for attribute, method in vars(client).items():
            if attribute.startswith("_") or not callable(method):
                continue
            if "Example" not in (method.__doc__ or ""):
                missing.append(f"{client.__name__}.{attribute}")
    assert missing == []


def test_both_clients_offer_the_same_calls() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(Client) - {"close"} == public(AsyncClient) - {"aclose"}


def test_there_is_a_typed_call_for_every_transaction_of_the_contract() -> None:
    for transaction in contract().transactions.values():
        name = _codegen.method_name(transaction.title_en)
        sync, asynchronous = getattr(Client, name), getattr(AsyncClient, name)
        assert transaction.infno in (sync.__doc__ or "")
        assert inspect.iscoroutinefunction(asynchronous)
        if transaction.reversible_by_2601:
            assert "2601" in (sync.__doc__ or "")


def test_the_generated_calls_are_fresh() -> None:
    assert not _codegen.is_stale(), "run `python -m nhsa.client._codegen` and commit the result"
