"""What the docstring examples of ``src/nhsa`` may assume, so that every one of them runs.

pytest runs the examples (``--doctest-modules``, see pyproject.toml). Nearly all of them are
self-contained; the client's need a platform to talk to, and get one here:

- an example of ``nhsa.client`` that uses one of these names finds ``mock``, a fresh
  in-process :class:`~nhsa.mock.MockPlatform` with the institution enrolled; ``config``, that
  institution's :class:`~nhsa.client.ClientConfig` (a journal file of its own, shared by every
  client the example makes, and retries without waiting, so lost answers cost no time);
  ``window``, the cashier's mode; ``client``, a :class:`~nhsa.client.Client` on the mock; and
  the invented patient's ``card``, with a ``clinic``, ``fees`` and ``diagnoses`` for a visit
  (and a ``ward`` for an inpatient stay);
- examples of ``nhsa.client._transactions`` (the generated typed calls) find ``client``, a
  ``Client`` or ``AsyncClient`` whose platform answers every transaction with the contract's
  own example answer (``examples`` in ``interface_specs/v1/transactions/<infno>.json``).

This file sits beside the package, not in it, so it is not shipped.
"""

from __future__ import annotations

import copy
import doctest
import re
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from nhsa.client import (
    AsyncClient,
    Certificate,
    Client,
    ClientConfig,
    Clinic,
    Diagnosis,
    FeeLine,
    RetryPolicy,
    Ward,
    WindowMode,
)
from nhsa.mock import MockPlatform
from nhsa.spec import contract

HOSPITAL = ("H53010100001", "昆明市测试第一人民医院", "530100")
WINDOW = WindowMode("C0001", "收费员甲")
NO_WAITING = RetryPolicy(backoff_initial=0, backoff_max=0, resolution_deadline=0)
_WORKFLOW_NAMES = re.compile(r"\b(mock|config|window|client|card|clinic|fees|diagnoses|ward)\b")


def _example_answer(request: httpx.Request) -> httpx.Response:
    """The contract's first example answer of the request's transaction."""
    sent = orjson.loads(request.content)
    answer = copy.deepcopy(dict(contract().transaction(sent["infno"]).examples[0].response))
    setlinfo = (answer.get("output") or {}).get("setlinfo")
    if isinstance(setlinfo, dict) and "medins_setl_id" in setlinfo:
        setlinfo["medins_setl_id"] = sent["msgid"]  # the platform names our msgid here
    return httpx.Response(200, content=orjson.dumps(answer))


def _workflow_names(mock: MockPlatform, journal: Path) -> dict[str, Any]:
    mock.enroll(HOSPITAL[0])
    config = ClientConfig(*HOSPITAL, journal_path=journal, base_url=mock.base_url, retry=NO_WAITING)
    return {
        "mock": mock,
        "config": config,
        "window": WINDOW,
        "client": Client(config, WINDOW, transport=mock.transport),
        "card": Certificate.social_security_card("TA5300001", "530100D15600000500000000A1B2C3D4"),
        "clinic": Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03"),
        "fees": [FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00"))],
        "diagnoses": [Diagnosis("J06.900", "急性上呼吸道感染")],
        "ward": Ward("0302", "呼吸内科病区", "12床", "D530100000412", "医师庚"),
    }


def _uses_workflow_names(test: doctest.DocTest) -> bool:
    return any(_WORKFLOW_NAMES.search(example.source) for example in test.examples)


@pytest.fixture(autouse=True)
def _client_example_names(
    request: pytest.FixtureRequest,
    doctest_namespace: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    example = getattr(getattr(request.node, "dtest", None), "name", "")
    names: dict[str, Any] = {}
    with ExitStack() as stack:
        if example.startswith("nhsa.client._transactions."):
            config = ClientConfig(
                *HOSPITAL, journal_path=":memory:", base_url="http://platform.invalid",
                retry=NO_WAITING,
            )  # fmt: skip
            answers = httpx.MockTransport(_example_answer)
            if ".AsyncTransactions." in example:
                names["client"] = AsyncClient(config, WINDOW, transport=answers)
                stack.callback(anyio.run, names["client"].aclose)
            else:
                names["client"] = stack.enter_context(Client(config, WINDOW, transport=answers))
        elif example.startswith("nhsa.client") and _uses_workflow_names(request.node.dtest):
            journal = tmp_path_factory.mktemp("journal") / "journal.sqlite3"
            names = _workflow_names(stack.enter_context(MockPlatform()), journal)
            stack.callback(names["client"].close)
        doctest_namespace.update(names)
        try:
            yield
        finally:
            for name in names:  # the next example, in another module, must not see them
                del doctest_namespace[name]
