"""Shared fixtures: the contract and its bundled examples."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nhsa.spec import Contract, Example, contract


@pytest.fixture(scope="session")
def spec_contract() -> Contract:
    return contract()


@pytest.fixture
def example_of(spec_contract: Contract) -> Callable[[str], Example]:
    """A deep copy of a transaction's first bundled example, safe to break."""

    def pick(infno: str) -> Example:
        original = spec_contract.transaction(infno).examples[0]
        return Example(
            original.name,
            copy.deepcopy(dict(original.request)),
            copy.deepcopy(dict(original.response)),
        )

    return pick


def all_examples() -> list[tuple[str, int, Any]]:
    """(infno, index, example) for every bundled example, for parametrized tests."""
    return [
        (infno, index, example)
        for infno, transaction in sorted(contract().transactions.items())
        for index, example in enumerate(transaction.examples)
    ]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a fresh schema of its own (see ``tests/postgres.py``)."""
    from tests.postgres import fresh_schema  # noqa: PLC0415 - psycopg only when asked for

    with fresh_schema() as url:
        yield url
