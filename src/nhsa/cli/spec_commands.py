"""``nhsa spec``: list, show and validate against the interface contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from nhsa import spec

app = typer.Typer(help="Inspect the interface contract and validate messages against it.")
_out = Console()
_err = Console(stderr=True)


@app.command("list")
def list_transactions() -> None:
    """Print the transaction catalogue."""
    table = Table(title=f"NHSA interface contract {spec.contract().version}")
    for column in ("infno", "title", "kind", "care", "2601", "undone by", "path"):
        table.add_column(column)
    for infno, t in sorted(spec.contract().transactions.items()):
        table.add_row(
            infno,
            f"{t.title_zh} {t.title_en}",
            t.kind,
            t.care,
            "yes" if t.reversible_by_2601 else "",
            t.undone_by or "",
            t.path,
        )
    _out.print(table)


@app.command("show")
def show(infno: str = typer.Argument(..., help="Transaction code, e.g. 2207.")) -> None:
    """Print one transaction's metadata and fields."""
    try:
        t = spec.contract().transaction(infno)
    except spec.UnknownTransactionError as exc:
        _err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    _out.print(f"[bold]{t.infno} {t.title_zh} — {t.title_en}[/bold]")
    _out.print(
        f"kind={t.kind} care={t.care} safe_to_repeat={t.safe_to_repeat} "
        f"reversible_by_2601={t.reversible_by_2601} undone_by={t.undone_by} path={t.path}"
    )
    _out.print(t.description)
    _out.print(f"sources: {t.sources}")
    for side, schema in (("input", t.input_schema), ("output", t.output_schema)):
        table = Table(title=f"{infno} {side}")
        for column in ("field", "名称", "type", "max", "required", "meaning"):
            table.add_column(column)
        for path, field, required in _fields(schema, t.document):
            table.add_row(
                path,
                str(field.get("title", "")),
                _type_of(field),
                str(field.get("maxLength", "")),
                "Y" if required else "",
                str(field.get("description", "")),
            )
        _out.print(table)


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="A request or response envelope (JSON)."),
    infno: str | None = typer.Option(
        None, help="Check a response's output against this transaction (requests name it)."
    ),
) -> None:
    """Validate a message; print each error with its path; exit 1 on any error.

    The file may hold a request envelope, a response envelope, or an object
    ``{"request": …, "response": …}`` as in the contract's examples.
    """
    try:
        raw = file.read_bytes()
    except OSError as exc:
        _err.print(f"[red]{file}: cannot read: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    message, issues = spec.parse_json(raw)
    if not issues:
        issues = _validate_any(message, infno)
    if issues:
        for issue in issues:
            _err.print(f"{file}: [red]{issue}[/red]", highlight=False)
        _err.print(f"{file}: {len(issues)} error(s)")
        raise typer.Exit(1)
    _out.print(f"{file}: valid")


def _validate_any(message: Any, infno: str | None) -> list[spec.ValidationIssue]:
    if isinstance(message, dict) and {"request", "response"} <= message.keys():
        request, response = message["request"], message["response"]
        name = infno or (request.get("infno") if isinstance(request, dict) else None)
        return _prefixed("/request", spec.validate_request(request)) + _prefixed(
            "/response", _response_issues(response, name)
        )
    if isinstance(message, dict) and "infcode" in message:
        return _response_issues(message, infno)
    return spec.validate_request(message)


def _response_issues(message: Any, infno: str | None) -> list[spec.ValidationIssue]:
    if infno is not None and infno not in spec.contract().transactions:
        return [
            spec.ValidationIssue(
                "", "known-transaction", str(spec.UnknownTransactionError(infno, []))
            )
        ]
    return spec.validate_response(message, infno)


def _prefixed(prefix: str, issues: list[spec.ValidationIssue]) -> list[spec.ValidationIssue]:
    return [spec.ValidationIssue(prefix + i.pointer, i.rule, i.message) for i in issues]


def _fields(
    schema: Any, document: Any, prefix: str = ""
) -> list[tuple[str, dict[str, Any], bool]]:
    """Flatten a node schema into (path, field schema, required) rows for display."""
    schema = _resolve(schema, document)
    rows: list[tuple[str, dict[str, Any], bool]] = []
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        resolved = _resolve(field, document)
        path = f"{prefix}{name}"
        items = resolved.get("items")
        if resolved.get("type") == "object" or (items is not None and "$ref" not in str(field)):
            rows.append((path, {**resolved, **field}, name in required))
        target = _resolve(items, document) if items is not None else resolved
        if target.get("type") == "object" and "properties" in target:
            rows.extend(_fields(target, document, path + ("[]." if items else ".")))
        elif items is None and resolved.get("type") != "object":
            rows.append((path, {**resolved, **field}, name in required))
    return rows


def _resolve(schema: Any, document: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    contract = spec.contract()
    if ref.startswith("#"):
        target: Any = document
    else:
        base = document["$id"].rsplit("/", 1)[0] + "/"
        uri = _join(base, ref.split("#", 1)[0])
        target = contract.documents.get(uri, {})
    fragment = ref.split("#", 1)[1] if "#" in ref else ""
    for step in [s for s in fragment.split("/") if s]:
        target = target.get(step, {})
    return _resolve(target, contract.documents.get(target.get("$id", ""), document))


def _join(base: str, relative: str) -> str:
    parts = base.rstrip("/").split("/")
    for step in relative.split("/"):
        if step == "..":
            parts.pop()
        elif step not in ("", "."):
            parts.append(step)
    return "/".join(parts)


def _type_of(field: dict[str, Any]) -> str:
    if "enum" in field:
        return "code"
    if "x-decimal" in field:
        precision, scale = field["x-decimal"]
        return f"number({precision},{scale})"
    kind = field.get("type", "")
    return json.dumps(kind) if isinstance(kind, list) else str(kind)
