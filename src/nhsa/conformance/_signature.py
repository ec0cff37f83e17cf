"""Signing a report: a detached SM2 signature over the exact bytes of the file.

``nhsa conformance sign REPORT --key K`` writes ``REPORT.sig`` next to the report, a small
JSON document::

    {"format": "nhsa-report-signature/1", "file": "report.json", "size": 48213,
     "sha256": "…", "algorithm": "SM2-with-SM3", "user_id": "1234567812345678",
     "key_id": "3f5c…", "signed_at": "2026-11-23T18:02:11+08:00", "signature": "<base64 DER>"}

``verify`` recomputes everything from the report's bytes: a changed byte, a different key, a
truncated or foreign signature file each fail with a message saying which. The digest and
size are there to say *what* changed quickly; the SM2 signature is what proves it.

Example:
    >>> import tempfile, pathlib
    >>> from nhsa.signing import Sm2PrivateKey
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> report = folder / "report.json"
    >>> _ = report.write_bytes(b'{"result": "pass"}')
    >>> key = Sm2PrivateKey.generate()
    >>> signature = sign_report(report, key)
    >>> verify_report(report, key.public_key).key_id == key.key_id
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from nhsa.conformance._errors import ReportSignatureError
from nhsa.envelope import CHINA_TIME
from nhsa.signing import DEFAULT_USER_ID, Sm2PrivateKey, Sm2PublicKey

__all__ = [
    "SIGNATURE_FORMAT",
    "VerifiedReport",
    "sign_report",
    "signature_file",
    "signature_path",
    "verify_report",
]

SIGNATURE_FORMAT: Final = "nhsa-report-signature/1"
ALGORITHM: Final = "SM2-with-SM3"
_FIELDS: Final = ("format", "file", "size", "sha256", "algorithm", "user_id", "key_id", "signature")


@dataclass(frozen=True)
class VerifiedReport:
    """A report whose signature verified: which key signed it, and when it says it was signed.

    Example::

        verify_report(Path("report.json"), public_key).key_id
    """

    path: Path
    key_id: str
    signed_at: str
    sha256: str


def signature_path(report: Path) -> Path:
    """``report.json`` → ``report.json.sig``.

    Example:
        >>> signature_path(Path("out/report.json")).name
        'report.json.sig'
    """
    return report.with_name(report.name + ".sig")


def sign_report(report: Path, key: Sm2PrivateKey, *, out: Path | None = None) -> Path:
    """Write the detached signature of ``report`` (default ``<report>.sig``); return its path.

    Example::

        sign_report(Path("out/report.json"), Sm2PrivateKey.from_file("lab.sm2.key.pem"))
    """
    data = _read(report, "report")
    target = out or signature_path(report)
    try:
        target.write_bytes(signature_file(data, report.name, key))
    except OSError as exc:
        raise ReportSignatureError(f"cannot write the signature {target}: {exc.strerror}") from None
    return target


def signature_file(data: bytes, name: str, key: Sm2PrivateKey) -> bytes:
    """The detached signature document of ``data`` (a report called ``name``), as file bytes.

    Example:
        >>> key = Sm2PrivateKey.generate()
        >>> orjson.loads(signature_file(b"{}", "report.json", key))["key_id"] == key.key_id
        True
    """
    document = {
        "format": SIGNATURE_FORMAT,
        "file": name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "algorithm": ALGORITHM,
        "user_id": DEFAULT_USER_ID,
        "key_id": key.key_id,
        "signed_at": datetime.now(CHINA_TIME).isoformat(timespec="seconds"),
        "signature": base64.b64encode(key.sign(data, DEFAULT_USER_ID.encode())).decode(),
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def verify_report(
    report: Path, public_key: Sm2PublicKey, *, signature: Path | None = None
) -> VerifiedReport:
    """Check ``report`` against its signature file; raise ReportSignatureError saying why not.

    Example::

        verify_report(Path("out/report.json"), Sm2PublicKey.from_file("lab.sm2.pub.pem"))
    """
    data = _read(report, "report")
    sig_path = signature or signature_path(report)
    document = _signature_document(sig_path)
    if document["key_id"] != public_key.key_id:
        raise ReportSignatureError(
            f"{sig_path}: signed with key {document['key_id']}, but the public key given is "
            f"{public_key.key_id}"
        )
    digest = hashlib.sha256(data).hexdigest()
    if document["size"] != len(data) or document["sha256"] != digest:
        raise ReportSignatureError(
            f"{report} was changed after it was signed: {len(data)} bytes with sha256 {digest}, "
            f"signed were {document['size']} bytes with sha256 {document['sha256']}"
        )
    try:
        raw = base64.b64decode(str(document["signature"]), validate=True)
    except (binascii.Error, ValueError):
        raise ReportSignatureError(f"{sig_path}: signature is not base64") from None
    if not public_key.verify(raw, data, str(document["user_id"]).encode()):
        raise ReportSignatureError(
            f"{report}: the SM2 signature in {sig_path} does not verify with key"
            f" {public_key.key_id}"
        )
    return VerifiedReport(report, public_key.key_id, str(document.get("signed_at", "")), digest)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReportSignatureError(f"cannot read the {what} {path}: {exc.strerror}") from None


def _signature_document(path: Path) -> dict[str, Any]:
    try:
        document = orjson.loads(_read(path, "signature file"))
    except orjson.JSONDecodeError:
        raise ReportSignatureError(f"{path}: not a signature file (not JSON)") from None
    if not isinstance(document, dict):
        raise ReportSignatureError(f"{path}: not a signature file (not a JSON object)")
    missing = [name for name in _FIELDS if name not in document]
    if missing:
        raise ReportSignatureError(f"{path}: signature file lacks {', '.join(missing)}")
    if document["format"] != SIGNATURE_FORMAT or document["algorithm"] != ALGORITHM:
        raise ReportSignatureError(
            f"{path}: unsupported signature format {document['format']!r} / "
            f"{document['algorithm']!r}; expected {SIGNATURE_FORMAT} / {ALGORITHM}"
        )
    return document
