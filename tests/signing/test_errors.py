"""The error tree: distinct names and codes, wording, and the curated package exports."""

from __future__ import annotations

import inspect

import pytest

from nhsa import signing
from nhsa.signing import errors

ALL_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.SigningError)
]


def test_every_error_is_exported_and_drawn_in_the_module_docstring() -> None:
    assert sorted(cls.__name__ for cls in ALL_ERRORS) == sorted(errors.__all__)
    for cls in ALL_ERRORS:
        assert cls.__name__ in (errors.__doc__ or "")


def test_codes_are_distinct() -> None:
    codes = [cls.code for cls in ALL_ERRORS]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("cls", "wording"),
    [
        (errors.TamperedBodyError, "签名不一致"),
        (errors.GatewaySignatureMismatchError, "签名不一致"),
        (errors.StaleTimestampError, "签名时间戳超时"),
        (errors.UnknownPaasidError, "非法用户"),
    ],
)
def test_the_real_gateway_wording_is_used_where_known(
    cls: type[errors.SigningError], wording: str
) -> None:
    assert cls.wording == wording
    assert cls.wording_confirmed


def test_the_required_named_failures_exist_and_are_rejections() -> None:
    required = [
        errors.TamperedBodyError,
        errors.WrongKeyError,
        errors.MissingHeaderError,
        errors.StaleTimestampError,
        errors.ReplayedNonceError,
        errors.ReplayedMsgidError,
        errors.UnknownKeyIdError,
        errors.UnknownPaasidError,
        errors.MalformedSignatureError,
        errors.NonHexHeaderError,
        errors.EmptyBodyError,
    ]
    assert len(set(required)) == len(required)
    for cls in required:
        assert issubclass(cls, errors.RejectedMessageError)
    for key_error in (errors.MalformedPemError, errors.WrongCurveError):
        assert issubclass(key_error, errors.KeyMaterialError)


def test_err_msg_joins_wording_and_reason() -> None:
    error = errors.MissingHeaderError(
        "header x-tif-nonce is missing", field="x-tif-nonce", rule="required"
    )
    assert error.err_msg == "缺少请求头: header x-tif-nonce is missing"
    assert str(error) == "header x-tif-nonce is missing"


def test_the_package_exports_are_pinned() -> None:
    assert sorted(signing.__all__) == sorted(
        [
            "DEFAULT_USER_ID",
            "SIGNTYPE",
            "BearerAuth",
            "BearerIssuer",
            "Caller",
            "ClientGateway",
            "ClientSigning",
            "Clock",
            "CsbAuth",
            "CsbParameters",
            "CsbVerifier",
            "GatewayVerifier",
            "KeyEntry",
            "KeyRing",
            "MessageSigner",
            "MessageVerifier",
            "PlatformSigning",
            "RefreshHook",
            "ReplayGuard",
            "SigningProfile",
            "Sm2PrivateKey",
            "Sm2PublicKey",
            "TifAuth",
            "TifVerifier",
            "TokenLookup",
            "VerifyPolicy",
            "basic_credentials",
            "canonical_bytes",
            "client_gateway",
            "csb_parameters",
            "csb_signature",
            "errors",
            "key_id_of",
            "new_nonce",
            "platform_gateway",
            "tif_signature",
        ]
    )
    for name in signing.__all__:
        assert hasattr(signing, name)
