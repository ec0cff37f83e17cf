"""Signing profiles from code and from short strings."""

from __future__ import annotations

import pytest

from nhsa.signing import SigningProfile
from nhsa.signing.errors import SigningConfigError


@pytest.mark.parametrize(
    ("text", "tif", "sm2", "verify"),
    [
        ("none", False, False, "off"),
        ("tif", True, False, "off"),
        ("sm2", False, True, "require"),
        ("tif+sm2", True, True, "require"),
        ("SM2+TIF", True, True, "require"),
        (" tif + sm2 ", True, True, "require"),
    ],
)
def test_parse(text: str, tif: bool, sm2: bool, verify: str) -> None:
    profile = SigningProfile.parse(text)
    assert (profile.tif, profile.sm2, profile.verify, profile.policy) == (tif, sm2, verify, verify)
    assert SigningProfile.parse(str(profile)) == profile


def test_str_names_the_schemes_in_a_fixed_order() -> None:
    assert str(SigningProfile(tif=True, sm2=True)) == "tif+sm2"
    assert str(SigningProfile(tif=False, sm2=False)) == "none"


@pytest.mark.parametrize("text", ["", "tls", "tif+tif", "none+sm2", "tif,sm2", "sm3"])
def test_bad_profile_strings_are_named(text: str) -> None:
    with pytest.raises(SigningConfigError, match="expected 'none' or schemes") as caught:
        SigningProfile.parse(text)
    assert caught.value.field == "profile"


def test_explicit_policy_and_user_id() -> None:
    profile = SigningProfile.parse("sm2", verify="if-present", user_id="H53010100001")
    assert profile.verify == "if-present"
    assert profile.user_id_bytes == b"H53010100001"
    assert SigningProfile(tif=False, sm2=True).user_id == "1234567812345678"


def test_bad_policy_and_user_id_are_named() -> None:
    with pytest.raises(SigningConfigError) as policy:
        SigningProfile(tif=False, sm2=True, verify="sometimes")  # type: ignore[arg-type]
    assert policy.value.field == "verify"
    with pytest.raises(SigningConfigError) as user_id:
        SigningProfile(tif=False, sm2=True, user_id="")
    assert user_id.value.field == "user_id"


def test_profiles_are_frozen() -> None:
    profile = SigningProfile.parse("tif")
    with pytest.raises(AttributeError):
        profile.sm2 = True  # type: ignore[misc]
