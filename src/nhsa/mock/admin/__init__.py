"""The mock platform's control plane: the admin API, its OpenAPI document, and its Python face.

:class:`AdminService` carries every admin operation once (register institutions and keys,
tenant state and reset, fixtures, faults, transcript, filings, e-voucher tokens, downtime and
the notice board, statistics, chronic-disease recognitions); :func:`admin_routes` /
:func:`public_routes` serve it over HTTP under ``/admin`` (bearer token) and ``/public``;
:func:`openapi_document` describes it, and is served without a token at
``/admin/openapi.json``.

Example:
    >>> sorted(openapi_document()["paths"])[:2]
    ['/admin/health', '/admin/institutions']
"""

from nhsa.mock.admin._http import admin_routes, public_routes
from nhsa.mock.admin._models import (
    DowntimeWindow,
    EcTokenRequest,
    FilingRequest,
    FixturesRequest,
    InstitutionRegistration,
    RecognitionRequest,
)
from nhsa.mock.admin._openapi import openapi_document
from nhsa.mock.admin._operations import OPERATIONS, Operation
from nhsa.mock.admin._service import AdminError, AdminService

__all__ = [
    "OPERATIONS",
    "AdminError",
    "AdminService",
    "DowntimeWindow",
    "EcTokenRequest",
    "FilingRequest",
    "FixturesRequest",
    "InstitutionRegistration",
    "Operation",
    "RecognitionRequest",
    "admin_routes",
    "openapi_document",
    "public_routes",
]
