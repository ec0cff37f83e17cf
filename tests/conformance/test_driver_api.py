"""driver-api.yaml: valid OpenAPI 3.1, and field for field the Driver protocol's types."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi

from nhsa._resources import data_dir
from nhsa.conformance import (
    CancelChronicRequest,
    CancelRegistrationRequest,
    ChargeRequest,
    DriverCertificate,
    DriverHealth,
    DriverResult,
    FeeItem,
    HisConfiguration,
    ModeConfig,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterChronicRequest,
    RegisterRequest,
    SigningConfig,
    SignInRequest,
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    text = (data_dir("conformance") / "driver-api.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_it_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


@pytest.mark.parametrize(
    ("schema", "model"),
    [
        ("Health", DriverHealth),
        ("ModeConfig", ModeConfig),
        ("SigningConfig", SigningConfig),
        ("Configuration", HisConfiguration),
        ("Certificate", DriverCertificate),
        ("FeeItem", FeeItem),
        ("SignInRequest", SignInRequest),
        ("RegisterRequest", RegisterRequest),
        ("CancelRegistrationRequest", CancelRegistrationRequest),
        ("ChargeRequest", ChargeRequest),
        ("RefundRequest", RefundRequest),
        ("PartialRefundRequest", PartialRefundRequest),
        ("ReconcileRequest", ReconcileRequest),
        ("RegisterChronicRequest", RegisterChronicRequest),
        ("CancelChronicRequest", CancelChronicRequest),
        ("ActionResult", DriverResult),
    ],
)
def test_schemas_match_the_python_types(document: dict[str, Any], schema: str, model: type) -> None:
    described = document["components"]["schemas"][schema]
    fields = dataclasses.fields(model)
    assert set(described["properties"]) == {f.name for f in fields}
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert set(described.get("required", [])) == required
