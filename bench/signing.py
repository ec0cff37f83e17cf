"""Signing cost: SM2 (tongsuopy), the x-tif headers, and what profile ``tif+sm2`` adds to a call.

Reference, measured in the same run: ECDSA P-256 with SHA-256 from ``cryptography`` over the
same bytes. Every SM2 figure is also given as a ratio to its P-256 counterpart, because this
machine is noisy and ratios travel.

Message: the bundled 2207 request and answer (about 0.8 and 1.5 KB), plus a 2204 request with
50 fee lines (about 20 KB) to show what locating ``cainfo`` in a large body costs.

Run: ``.venv/bin/python bench/signing.py`` — prints two tables and writes
``bench/results/signing.json``. Each measurement is bounded (fixed count, ≤ ~2 s).
"""

from __future__ import annotations

import copy
import json
import platform
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from rich.console import Console
from rich.table import Table

from nhsa import signing
from nhsa.spec import contract

RESULTS = Path(__file__).resolve().parent / "results" / "signing.json"
BUDGET_SECONDS = 2.0
MAX_CALLS = 200_000
PREPARED_CALLS = 1_000  # calls whose inputs must be unique (nonces, msgids) are prepared first
INSTITUTION, PLATFORM = "H53010100001", "NHSA"
PAASID, TOKEN = "paas-bench", "bench-token"


def _per_call_us(function: Callable[[], object]) -> float:
    function()
    count, started = 0, time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= BUDGET_SECONDS or count >= MAX_CALLS:
            return elapsed / count * 1e6


def _per_prepared_call_us(function: Callable[[Any], object], inputs: list[Any]) -> float:
    started = time.perf_counter()
    for item in inputs:
        function(item)
    return (time.perf_counter() - started) / len(inputs) * 1e6


def _bodies() -> dict[str, bytes]:
    spec = contract()
    request = dict(spec.transaction("2207").examples[0].request) | {"cainfo": "", "signtype": None}
    answer = dict(spec.transaction("2207").examples[0].response) | {
        "cainfo": None,
        "signtype": None,
    }
    upload = copy.deepcopy(dict(spec.transaction("2204").examples[0].request))
    line = upload["input"]["feedetail"][0]
    upload["input"]["feedetail"] = [
        {**line, "feedetl_sn": f"{line['feedetl_sn'][:-3]}{i:03d}"} for i in range(50)
    ]
    upload |= {"cainfo": "", "signtype": None}
    return {
        "2207 request": orjson.dumps(request),
        "2207 answer": orjson.dumps(answer),
        "2204 request, 50 lines": orjson.dumps(upload),
    }


def _primitives(message: bytes) -> list[dict[str, Any]]:
    sm2 = signing.Sm2PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    ecdsa = ec.ECDSA(hashes.SHA256())
    default_id, other_id = b"1234567812345678", b"H53010100001"
    sm2_signature = sm2.sign(message, default_id)
    sm2_other_signature = sm2.sign(message, other_id)
    p256_signature = p256.sign(message, ecdsa)
    p256_public = p256.public_key()
    auth = signing.TifAuth(PAASID, TOKEN)
    stamped = [auth.headers() for _ in range(PREPARED_CALLS * 5)]
    verifier = signing.TifVerifier({PAASID: TOKEN})

    p256_sign = _per_call_us(lambda: p256.sign(message, ecdsa))
    p256_verify = _per_call_us(lambda: p256_public.verify(p256_signature, message, ecdsa))
    rows = [
        ("ECDSA P-256 sign (reference)", "sign", p256_sign),
        ("ECDSA P-256 verify (reference)", "verify", p256_verify),
        ("SM2 sign, default id", "sign", _per_call_us(lambda: sm2.sign(message, default_id))),
        (
            "SM2 verify, default id",
            "verify",
            _per_call_us(lambda: sm2.public_key.verify(sm2_signature, message, default_id)),
        ),
        (
            "SM2 sign, other id (Z_A computed by us)",
            "sign",
            _per_call_us(lambda: sm2.sign(message, other_id)),
        ),
        (
            "SM2 verify, other id",
            "verify",
            _per_call_us(lambda: sm2.public_key.verify(sm2_other_signature, message, other_id)),
        ),
        ("x-tif headers, compute (SDK)", "sign", _per_call_us(auth.headers)),
        (
            "x-tif headers, verify + replay guard (mock)",
            "verify",
            _per_prepared_call_us(verifier.verify, stamped),
        ),
    ]
    reference = {"sign": p256_sign, "verify": p256_verify}
    return [
        {
            "measurement": label,
            "bytes": len(message),
            "us_per_op": round(cost, 2),
            "ops_per_s": round(1e6 / cost),
            "ratio_to_p256": round(cost / reference[kind], 2),
        }
        for label, kind, cost in rows
    ]


def _locating(bodies: dict[str, bytes]) -> list[dict[str, Any]]:
    rows = []
    for name, body in bodies.items():
        baseline = _per_call_us(partial(orjson.loads, body))
        cost = _per_call_us(partial(signing.canonical_bytes, body))
        rows.append(
            {
                "measurement": f"canonical bytes of {name}",
                "bytes": len(body),
                "us_per_op": round(cost, 2),
                "ratio_to_orjson_loads": round(cost / baseline, 2),
            }
        )
    return rows


def _profile_cost(bodies: dict[str, bytes]) -> dict[str, Any]:
    """µs the tif+sm2 profile adds to one call on each side, against P-256 doing the same work."""
    institution, platform_key = signing.Sm2PrivateKey.generate(), signing.Sm2PrivateKey.generate()
    profile = signing.SigningProfile.parse("tif+sm2")
    client = signing.ClientSigning(
        profile,
        paasid=PAASID,
        token=TOKEN,
        private_key=institution,
        platform_keys=signing.KeyRing([signing.KeyEntry(platform_key.public_key, PLATFORM)]),
    )
    server = signing.PlatformSigning(
        profile,
        paas_tokens={PAASID: TOKEN},
        institution_keys=signing.KeyRing([signing.KeyEntry(institution.public_key, INSTITUTION)]),
        private_key=platform_key,
    )
    auth = client.auth
    assert auth is not None
    request_template = orjson.loads(bodies["2207 request"])
    answer = bodies["2207 answer"]
    signed_answer = server.seal_response(answer)
    requests = [
        orjson.dumps(request_template | {"msgid": f"{INSTITUTION}20261123101530{i:04d}"})
        for i in range(PREPARED_CALLS)
    ]
    signed_requests = [(auth.headers(), client.seal_request(body)) for body in requests]

    def client_call(body: bytes) -> None:
        auth.headers()
        client.seal_request(body)
        client.open_response(signed_answer)

    def server_call(item: tuple[dict[str, str], bytes]) -> None:
        server.check_request(*item)
        server.seal_response(answer)

    client_us = _per_prepared_call_us(client_call, requests)
    server_us = _per_prepared_call_us(server_call, signed_requests)

    p256 = ec.generate_private_key(ec.SECP256R1())
    ecdsa = ec.ECDSA(hashes.SHA256())
    p256_signature = p256.sign(answer, ecdsa)
    p256_public = p256.public_key()
    p256_pair = _per_call_us(
        lambda: (
            p256.sign(bodies["2207 request"], ecdsa),
            p256_public.verify(p256_signature, answer, ecdsa),
        )
    )
    return {
        "client_us_per_call": round(client_us, 1),
        "server_us_per_call": round(server_us, 1),
        "p256_sign_plus_verify_us": round(p256_pair, 1),
        "client_ratio_to_p256": round(client_us / p256_pair, 2),
        "server_ratio_to_p256": round(server_us / p256_pair, 2),
        "calls_measured": PREPARED_CALLS,
    }


def main() -> None:
    bodies = _bodies()
    primitives = _primitives(bodies["2207 request"])
    locating = _locating(bodies)
    profile = _profile_cost(bodies)

    table = Table(title="Signing primitives (µs per op; ratio to P-256 doing the same op)")
    for column in ("measurement", "bytes"):
        table.add_column(column)
    for column in ("µs", "ops/s", "× P-256"):
        table.add_column(column, justify="right")
    for row in primitives:
        table.add_row(
            row["measurement"],
            str(row["bytes"]),
            f"{row['us_per_op']:.1f}",
            f"{row['ops_per_s']:,}",
            f"{row['ratio_to_p256']:.2f}",
        )
    for row in locating:
        table.add_row(
            row["measurement"],
            str(row["bytes"]),
            f"{row['us_per_op']:.1f}",
            "",
            f"{row['ratio_to_orjson_loads']:.2f} × orjson.loads",
        )
    console = Console()
    console.print(table)

    cost = Table(title="What tif+sm2 adds to one call (µs; P-256 = one sign + one verify)")
    for column in ("side", "work", "µs", "× P-256"):
        cost.add_column(column, justify="right" if column in ("µs", "× P-256") else "left")
    cost.add_row(
        "SDK",
        "x-tif headers + sign request + verify answer",
        f"{profile['client_us_per_call']:.0f}",
        f"{profile['client_ratio_to_p256']:.1f}",
    )
    cost.add_row(
        "mock",
        "check headers + verify request + msgid + sign answer",
        f"{profile['server_us_per_call']:.0f}",
        f"{profile['server_ratio_to_p256']:.1f}",
    )
    cost.add_row(
        "P-256", "sign + verify (reference)", f"{profile['p256_sign_plus_verify_us']:.0f}", "1.0"
    )
    console.print(cost)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "primitives": primitives,
                "locating": locating,
                "profile_tif_sm2": profile,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
