"""``nhsa demo``: the kit's main job, run end to end on one machine."""

from __future__ import annotations

import typer
from rich.console import Console

from nhsa import spec
from nhsa.cli.spec_commands import list_transactions



def demo() -> None:
    """Validate every bundled example message against the contract and print the catalogue."""
    out = Console(soft_wrap=True)
    contract = spec.contract()
    failures = 0
    checked = 0
    for infno, transaction in sorted(contract.transactions.items()):
        for example in transaction.examples:
            issues = spec.validate_request(example.request) + spec.validate_response(
                example.response, infno
            )
            checked += 2
            if issues:
                failures += 1
                out.print(f"[red]{infno} {example.name}: {len(issues)} error(s)[/red]")
                for issue in issues:
                    out.print(f"  {issue}", markup=False)
    list_transactions()
    out.print(
        f"{checked} example messages of {len(contract.transactions)} transactions checked "
        f"against interface_specs/{contract.version}: "
        + ("[green]all valid[/green]" if not failures else f"[red]{failures} invalid[/red]")
    )
    if failures:
        raise typer.Exit(1)
