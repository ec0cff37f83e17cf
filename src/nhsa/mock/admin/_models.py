"""Request bodies of the admin API, validated by pydantic (their JSON Schemas feed the OpenAPI).

Example:
    >>> from pydantic import ValidationError
    >>> try:
    ...     InstitutionRegistration(fixmedins_code="H5301", fixmedins_name="测试医院",
    ...                             mdtrtarea_admvs="530100", level="3")
    ... except ValidationError as invalid:
    ...     print(invalid.errors()[0]["loc"], invalid.errors()[0]["type"])
    ('fixmedins_code',) string_pattern_mismatch
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DowntimeWindow",
    "EcTokenRequest",
    "FilingRequest",
    "FixturesRequest",
    "InstitutionRegistration",
    "RecognitionRequest",
]

_BODY = ConfigDict(extra="forbid", frozen=True)
Service = Literal[
    "outpatient",
    "inpatient",
    "cross_province_outpatient",
    "cross_province_chronic",
    "cross_province_inpatient",
]


class InstitutionRegistration(BaseModel):
    """Register (or re-register) an institution: who it is, how it authenticates, its key.

    ``profile`` is the signing profile the platform demands of it (``none``, ``tif``, ``sm2``,
    ``tif+sm2``; the server's default when left out). ``tif`` needs ``paasid`` and ``token``;
    ``sm2`` needs ``public_key_pem`` (its ``key_id`` is computed; give it only to have it
    checked). ``dialect`` is the province dialect the platform speaks with it (national,
    guangdong, …; the server's default when left out): its gateway family, URL paths, spelling
    and answer shapes.
    """

    model_config = _BODY

    fixmedins_code: str = Field(pattern=r"^[A-Z0-9]{12}$", description="定点医药机构编号, 12 chars")
    fixmedins_name: str = Field(min_length=1, max_length=200)
    mdtrtarea_admvs: str = Field(pattern=r"^[0-9]{6}$", description="就医地医保区划")
    level: Literal["1", "2", "3"] = Field(description="hospital tier: 1, 2 or 3")
    networked: tuple[Service, ...] = Field(
        default=("outpatient", "cross_province_outpatient"),
        description="direct-settlement services the institution is networked for",
    )
    profile: str | None = Field(default=None, description="none, tif, sm2 or tif+sm2")
    dialect: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="province dialect (interface_specs/v1/dialects): national, guangdong, …",
    )
    paasid: str | None = Field(default=None, min_length=1, max_length=128)
    token: str | None = Field(default=None, min_length=1, max_length=256)
    public_key_pem: str | None = Field(default=None, min_length=1, max_length=4096)
    key_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")


class FixturesRequest(BaseModel):
    """Load a fixture folder (same layout as ``conformance/fixtures/``) on the server."""

    model_config = _BODY

    dir: str = Field(min_length=1, description="a folder readable by the server process")


class FilingRequest(BaseModel):
    """Set a person's filing (备案) record for this tenant, replacing the fixtures' one.

    ``kind`` ``none`` records "no filing" (an unfiled, temporary visit); ``emergency`` an
    emergency treated without a filing.
    """

    model_config = _BODY

    kind: Literal[
        "retiree", "long_term_resident", "resident_worker", "referral", "emergency", "none"
    ]
    area: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="filed treatment area"
    )
    begndate: date | None = None
    enddate: date | None = None


class EcTokenRequest(BaseModel):
    """Issue a test e-voucher token (ecToken) for a person, accepted by 1101 (type 01)."""

    model_config = _BODY

    psn_no: str = Field(min_length=1, max_length=30)
    ttl_seconds: int = Field(default=3600, ge=1, le=30 * 86400)


class DowntimeWindow(BaseModel):
    """A scheduled downtime (停机) of an insured area's system, shown on the notice board."""

    model_config = _BODY

    admdvs: str = Field(pattern=r"^[0-9]{6}$", description="province xx0000, city xxxx00 or area")
    start: datetime
    end: datetime
    reason: str = Field(default="系统升级维护", min_length=1, max_length=200)


class RecognitionRequest(BaseModel):
    """Record the insured place's recognition of a person's chronic or special outpatient
    disease (门慢/门特 待遇认定) for this tenant: what a med_type 14 visit must name.

    ``insutype`` defaults to the person's first insurance row; the recognising insured place is
    that row's insured area.
    """

    model_config = _BODY

    opsp_dise_code: str = Field(
        pattern=r"^M[0-9]{5}$", description="a code of interface_specs/v1/codes/opsp_dise_code.json"
    )
    begndate: date = Field(description="first day the recognition applies")
    enddate: date | None = Field(default=None, description="last day; null: open-ended")
    insutype: str | None = Field(default=None, pattern=r"^[0-9]{3}$")
