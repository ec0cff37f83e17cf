"""``nhsa spec``: list, show and validate against the interface contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from nhsa import spec
from nhsa.spec import FieldSpec, iter_fields

app = typer.Typer(help="Inspect the interface contract and validate messages against it.")


def _out() -> Console:
    # Built per call so the terminal width (COLUMNS) is read when the command runs.
    return Console(soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True)


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
    _out().print(table)


@app.command("show")
def show(infno: Annotated[str, typer.Argument(help="Transaction code, e.g. 2207.")]) -> None:
    """Print one transaction's metadata and every field of its input and output."""
    contract = spec.contract()
    try:
        t = contract.transaction(infno)
    except spec.UnknownTransactionError as exc:
        _err().print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    _out().print(f"[bold]{t.infno} {t.title_zh} — {t.title_en}[/bold]")
    _out().print(
        f"kind={t.kind} care={t.care} safe_to_repeat={t.safe_to_repeat} "
        f"reversible_by_2601={t.reversible_by_2601} undone_by={t.undone_by} path={t.path}"
    )
    _out().print(t.description)
    _out().print(f"sources: {t.sources}")
    for side in ("input", "output"):
        table = Table(title=f"{infno} {side}")
        for column in ("field", "名称", "type", "max", "required", "meaning"):
            table.add_column(column)
        for field in iter_fields(contract, f"{t.schema_id}#/$defs/{side}"):
            table.add_row(
                field.path,
                field.title,
                _type_text(field),
                "" if field.max_length is None else str(field.max_length),
                "Y" if field.required else "",
                field.description,
            )
        _out().print(table)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A request or response envelope (JSON).")],
    infno: Annotated[
        str | None,
        typer.Option(help="Check a response's output against this transaction."),
    ] = None,
) -> None:
    """Validate a message; print each error with its path; exit 1 on any error.

    The file may hold a request envelope, a response envelope, or an object
    ``{"request": …, "response": …}`` as in the contract's examples.
    """
    try:
        raw = file.read_bytes()
    except OSError as exc:
        _err().print(f"[red]{file}: cannot read: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    message, issues = spec.parse_json(raw)
    if not issues:
        issues = _validate_any(message, infno)
    if issues:
        for issue in issues:
            _err().print(f"{file}: {issue}", highlight=False, markup=False)
        _err().print(f"{file}: {len(issues)} error(s)")
        raise typer.Exit(1)
    _out().print(f"{file}: valid")


def _validate_any(message: Any, infno: str | None) -> list[spec.ValidationIssue]:
    if infno is not None and infno not in spec.contract().transactions:
        known = sorted(spec.contract().transactions)
        return [
            spec.ValidationIssue(
                "", "known-transaction", str(spec.UnknownTransactionError(infno, known))
            )
        ]
    if isinstance(message, dict) and {"request", "response"} <= message.keys():
        request, response = message["request"], message["response"]
        name = infno or (request.get("infno") if isinstance(request, dict) else None)
        if name not in spec.contract().transactions:
            name = None
        return _prefixed("/request", spec.validate_request(request)) + _prefixed(
            "/response", spec.validate_response(response, name)
        )
    if isinstance(message, dict) and "infcode" in message:
        return spec.validate_response(message, infno)
    return spec.validate_request(message)


def _prefixed(prefix: str, issues: list[spec.ValidationIssue]) -> list[spec.ValidationIssue]:
    return [spec.ValidationIssue(prefix + i.pointer, i.rule, i.message) for i in issues]


def _type_text(field: FieldSpec) -> str:
    if field.code_table:
        return f"code:{field.code_table}"
    if field.decimal:
        return f"number({field.decimal[0]},{field.decimal[1]})"
    return field.common or field.kind
