"""``nhsa conformance``: run the certification stages, show coverage, sign and verify reports.

Exit codes of ``run``: 0 every required check passed; 1 something failed, was skipped or is
still waiting; 2 the run could not judge (the driver or mock broke, a step timed out) or could
not start (a malformed scenario, an unreachable driver or mock) — the message names the file
and line, or the URL. Never a traceback.

Example:
    $ nhsa conformance run --stage lab --driver sdk --report-dir out/
    $ nhsa conformance run --stage all --driver http://127.0.0.1:9000 --mock http://127.0.0.1:8700
    $ nhsa conformance coverage
    $ nhsa conformance sign out/report.json --key lab.sm2.key.pem
    $ nhsa conformance verify out/report.json --pub lab.sm2.pub.pem
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nhsa.conformance import (
    STAGES,
    ConformanceError,
    RequirementSet,
    Runner,
    RunResult,
    Scenario,
    ScenarioRun,
    StepRun,
    bundled_requirements,
    bundled_stages_dir,
    default_registry,
    load_requirements,
    load_stages,
)
from nhsa.conformance._coverage import coverage
from nhsa.conformance._setup import open_driver, open_mock
from nhsa.conformance._signature import VerifiedReport, sign_report, signature_path, verify_report
from nhsa.conformance.reports import (
    SignatureStatus,
    build_report,
    refresh_html,
    scenario_problems,
    write_reports,
)
from nhsa.envelope import china_now
from nhsa.mock.fixtures import FixtureError, FixtureSet, load_fixtures
from nhsa.signing import Sm2PrivateKey, Sm2PublicKey
from nhsa.signing.errors import KeyMaterialError
from nhsa.spec import Dialect, DialectError, dialect_names
from nhsa.spec import dialect as spec_dialect

app = typer.Typer(
    help="The conformance suite: certification stages against a HIS, reports a lab can sign."
)

_STAGE_HELP = f"all, or one or more of {', '.join(STAGES)} (comma-separated)."


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _fail(message: str, code: int = 2) -> NoReturn:
    _err().print(f"error: {message}", style="red", markup=False)
    raise typer.Exit(code)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn the suite's named errors into a message and exit code 2."""
    try:
        yield
    except ConformanceError as exc:
        _fail(str(exc))


def _stages(text: str) -> list[str]:
    if text.strip() == "all":
        return list(STAGES)
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [stage for stage in chosen if stage not in STAGES]
    if unknown or not chosen:
        _fail(f"--stage {text!r}: {_STAGE_HELP}")
    return [stage for stage in STAGES if stage in chosen]


def _fixtures(folder: Path | None) -> FixtureSet | None:
    if folder is None:
        return None
    try:
        return load_fixtures(folder)
    except FixtureError as exc:
        _fail(f"--fixtures {folder}: {exc}")


def _requirements(extra: Path | None) -> RequirementSet:
    base = bundled_requirements()
    return base.merged(load_requirements(extra)) if extra is not None else base


@app.command("run")
def run(  # noqa: PLR0917 - typer maps each command-line option to one parameter
    stage: Annotated[str, typer.Option("--stage", help=_STAGE_HELP)] = "all",
    driver: Annotated[
        str, typer.Option("--driver", help="sdk, manual, or the http(s):// URL of a driver API.")
    ] = "sdk",
    mock: Annotated[
        str | None,
        typer.Option("--mock", help="URL of a running nhsa mock serve (default: in-process)."),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            "--admin-token", envvar="NHSA_MOCK_ADMIN_TOKEN", help="The mock's admin API token."
        ),
    ] = None,
    report_dir: Annotated[
        Path, typer.Option("--report-dir", help="Where report.json, junit.xml, report.html go.")
    ] = Path("conformance-report"),
    step_timeout: Annotated[
        float, typer.Option("--step-timeout", min=0.1, help="Seconds a step may take.")
    ] = 30.0,
    stages_dir: Annotated[
        Path | None, typer.Option("--stages-dir", help="Scenario folders (default: bundled).")
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option("--requirements", help="A lab's own requirements CSV, added to the kit's."),
    ] = None,
    fixtures: Annotated[
        Path | None,
        typer.Option(
            "--fixtures", help="The fixture folder the mock serves (default: the bundled one)."
        ),
    ] = None,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect",
            help="The province dialect to judge requests against and tell the HIS in configure: "
            "national, guangdong, guangzhou, hunan, jiangsu, jilin, sichuan.",
        ),
    ] = "national",
) -> None:
    """Run stages of scenarios against a HIS and write the reports.

    Example::

        nhsa conformance run --stage lab,self-test --driver sdk --report-dir out/
        nhsa conformance run --stage lab --driver sdk --dialect jilin
    """
    spoken = _dialect(dialect)
    with _clean_errors():
        registry = default_registry()
        reqs = _requirements(requirements)
        registry.validate_against(reqs)
        chosen = load_stages(stages_dir or bundled_stages_dir(), _stages(stage), registry, reqs)
        fixture_set = _fixtures(fixtures)
        serve = driver.startswith(("http://", "https://")) and mock is None
        with open_mock(mock, admin_token=admin_token, serve=serve, fixtures=fixture_set) as handle:
            his = open_driver(driver, handle, step_timeout=step_timeout)
            try:
                with _ProgressBar(sum(len(s) for s in chosen.values())) as progress:
                    runner = Runner(
                        his, handle, fixtures=fixture_set, registry=registry, requirements=reqs,
                        step_timeout=step_timeout, observer=progress, dialect=spoken,
                    )  # fmt: skip
                    result = runner.run(chosen)
            finally:
                his.close()
        paths = write_reports(result, report_dir)
    _summarize(result)
    if paths.removed_signature is not None:
        _out().print(
            f"removed {paths.removed_signature}: it signed the report this run replaced; "
            "sign the new one"
        )
    _out().print(f"reports: {paths.html}  {paths.json}  {paths.junit}")
    raise typer.Exit(result.exit_code)


def _dialect(name: str) -> Dialect:
    try:
        return spec_dialect(name)
    except DialectError:
        _fail(f"--dialect {name!r}: use one of {', '.join(dialect_names())}")


class _ProgressBar:
    """A rich progress bar fed by the runner's observer callbacks."""

    def __init__(self, total: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_err(),
            transient=True,
        )
        self._task = self._progress.add_task("starting", total=total)

    def __enter__(self) -> _ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def scenario_started(self, scenario: Scenario, index: int, total: int) -> None:
        """Show the scenario being run."""
        self._progress.update(self._task, description=f"[{index}/{total}] {scenario.id}")

    def step_finished(self, scenario: Scenario, step: StepRun) -> None:
        """Show the step that just ended."""
        self._progress.update(self._task, description=f"{scenario.id} · {step.name}")

    def scenario_finished(self, run: ScenarioRun) -> None:
        """Advance the bar, saying how the scenario ended."""
        self._progress.update(self._task, description=f"{run.scenario.id}: {run.status.value}")
        self._progress.advance(self._task)


def _summarize(result: RunResult) -> None:
    table = Table(title=f"conformance run {result.run_id}: {result.status.value.upper()}")
    for column in ("stage", "scenario", "result", "failed or broken"):
        table.add_column(column)
    for stage in result.stages:
        for scenario in stage.scenarios:
            problems = [c.name for c in scenario.checks if c.required and c.status.value != "pass"]
            problems += [
                f"step {s.name}" for s in scenario.steps if s.status.value in ("fail", "error")
            ]
            table.add_row(
                stage.stage, scenario.scenario.id, scenario.status.value, ", ".join(problems)
            )
    _out().print(table)
    for scenario, step in result.timed_out():
        _out().print(f"timed out: {scenario.scenario.id} step {step.name}: {step.message}")
    for stage in build_report(result)["stages"]:
        for judged in stage["scenarios"]:
            if judged["result"] == "error":
                why = "; ".join(scenario_problems(judged)) or "no reason was recorded"
                _out().print(f"could not judge {judged['id']}: {why}")
    _out().print(
        f"{result.duration_s:.1f} s; driver {result.driver}; mock {result.mock}; "
        f"dialect {result.dialect}"
    )


@app.command("coverage")
def coverage_command(
    stages_dir: Annotated[
        Path | None, typer.Option("--stages-dir", help="Scenario folders (default: bundled).")
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option("--requirements", help="A lab's own requirements CSV, added to the kit's."),
    ] = None,
) -> None:
    """Print the requirement × check matrix; exit 1 if a SHALL requirement has no check.

    Example::

        nhsa conformance coverage --requirements lab.csv
    """
    with _clean_errors():
        registry = default_registry()
        reqs = _requirements(requirements)
        registry.validate_against(reqs)
        stages = load_stages(stages_dir or bundled_stages_dir(), STAGES, registry, reqs)
        rows = coverage(reqs, registry, stages)
    table = Table(title="requirement coverage")
    for column in ("requirement", "level", "actor", "status", "checks", "scenarios"):
        table.add_column(column, overflow="fold")
    for row in rows:
        req = row.requirement
        checks = ", ".join(row.checks) or (req.not_tested_reason or "—")
        status = row.status.upper() if row.gap else row.status
        table.add_row(
            req.id, req.level, ", ".join(req.actors), status, checks, str(len(row.scenarios))
        )
    _out().print(table)
    gaps = [row.requirement.id for row in rows if row.gap]
    if gaps:
        _fail(f"SHALL requirements without a check that runs: {', '.join(gaps)}", code=1)
    tested = sum(1 for row in rows if row.status == "covered")
    _out().print(f"{tested} requirements covered; {len(rows) - tested} not tested (reasons listed)")


@app.command("list")
def list_scenarios(
    stage: Annotated[str, typer.Option("--stage", help=_STAGE_HELP)] = "all",
    stages_dir: Annotated[
        Path | None, typer.Option("--stages-dir", help="Scenario folders (default: bundled).")
    ] = None,
) -> None:
    """Load (and so check) the scenarios of the stages and list them, one per line.

    Example::

        nhsa conformance list --stage city --stages-dir my-stages/
    """
    with _clean_errors():
        registry = default_registry()
        stages = load_stages(stages_dir or bundled_stages_dir(), _stages(stage), registry)
    out = _out()
    for scenarios in stages.values():
        for s in scenarios:
            out.print(f"{s.id}\t{len(s.steps)} steps\t{len(s.checks)} checks\t{s.path}:{s.line}")
            out.print(f"    {s.title}")


@app.command("sign")
def sign(
    report: Annotated[Path, typer.Argument(help="The report file to sign (report.json).")],
    key: Annotated[Path, typer.Option("--key", help="The lab's SM2 private key (PEM).")],
    passphrase_env: Annotated[
        str | None,
        typer.Option("--passphrase-env", help="Environment variable with the key's passphrase."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Signature file or folder (default: REPORT.sig beside it)."),
    ] = None,
) -> None:
    """Write a detached SM2 signature over the exact bytes of REPORT.

    Example::

        nhsa conformance sign out/report.json --key lab.sm2.key.pem --passphrase-env LAB_KEY_PASS
    """
    passphrase = os.environ.get(passphrase_env) if passphrase_env else None
    if passphrase_env and not passphrase:
        _fail(f"--passphrase-env {passphrase_env}: the environment variable is not set or empty")
    try:
        private = Sm2PrivateKey.from_file(key, passphrase)
    except KeyMaterialError as exc:
        _fail(str(exc))
    with _clean_errors():
        target = sign_report(report, private, out=_signature_file(report, out))
        verified = verify_report(report, private.public_key, signature=target)
        page = refresh_html(report, _status("signed", target, verified))
    _out().print(f"signed {report} with key {private.key_id}: {target}")
    if page is not None:
        _out().print(f"{page} now shows the signature")


@app.command("verify")
def verify(
    report: Annotated[Path, typer.Argument(help="The signed report file.")],
    pub: Annotated[Path, typer.Option("--pub", help="The lab's SM2 public key (PEM).")],
    sig: Annotated[
        Path | None,
        typer.Option("--sig", help="Signature file or folder (default: REPORT.sig beside it)."),
    ] = None,
) -> None:
    """Verify REPORT against its detached signature; exit 1 if it was changed or not signed so.

    Example::

        nhsa conformance verify out/report.json --pub lab.sm2.pub.pem
    """
    try:
        public = Sm2PublicKey.from_file(pub)
    except KeyMaterialError as exc:
        _fail(str(exc))
    signature = _signature_file(report, sig)
    try:
        verified = verify_report(report, public, signature=signature)
    except ConformanceError as exc:
        _show_on_page(report, SignatureStatus(
            "not-verified", signature.name, checked_at=_now(), problem=str(exc)
        ))  # fmt: skip
        _fail(f"NOT VERIFIED: {exc}", code=1)
    _out().print(
        f"verified: {report} (sha256 {verified.sha256}) signed by key {verified.key_id}"
        f" at {verified.signed_at}"
    )
    _show_on_page(report, _status("verified", signature, verified))


def _signature_file(report: Path, given: Path | None) -> Path:
    """``--out``/``--sig``: a file, or a folder holding ``REPORT.sig``; default beside REPORT."""
    if given is None:
        return signature_path(report)
    return given / signature_path(report).name if given.is_dir() else given


def _now() -> str:
    return china_now().isoformat(timespec="seconds")


def _status(
    state: Literal["signed", "verified"], signature: Path, verified: VerifiedReport
) -> SignatureStatus:
    return SignatureStatus(
        state,
        signature.name,
        key_id=verified.key_id,
        signed_at=verified.signed_at,
        sha256=verified.sha256,
        checked_at=_now(),
    )


def _show_on_page(report: Path, status: SignatureStatus) -> None:
    """Put the verdict on the HTML page beside the report; a page that cannot be written is
    reported, never fatal (the verdict is the exit code)."""
    try:
        page = refresh_html(report, status)
    except ConformanceError as exc:
        _err().print(f"note: {exc}", markup=False)
        return
    if page is not None:
        _out().print(f"{page} now shows: {status.state}")
