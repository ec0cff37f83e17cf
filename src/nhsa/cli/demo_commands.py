"""``nhsa demo``: the kit's main job — a certification run, end to end, on one machine.

What a lab does with a hospital's HIS, with nhsa-kit's own parts standing in:

1. start the mock national platform as a server process (``nhsa mock serve``, free loopback
   port, temporary database, a fresh admin token);
2. start the reference HIS as another process (``python -m examples.reference_his``): the SDK
   behind the HTTP driver API, the path a Java or .NET vendor's HIS takes;
3. run every stage against it over HTTP (``nhsa conformance run --driver URL --mock URL``),
   which prints the summary and writes the JSON, JUnit and HTML reports;
4. create a lab key (``nhsa keys new --lab``) and sign the JSON report with it, then verify it;
5. stop both processes — also after a failure or Ctrl-C — and exit with the run's code
   (non-zero when any required check did not pass).

The reports and the key stay in the report folder (a new temporary one unless
``--report-dir`` is given); the servers' databases are deleted.

Example:
    $ nhsa demo
    $ nhsa demo --stage lab --report-dir demo-report
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Annotated, Any, Final, NoReturn

import typer
from rich.console import Console

import nhsa
from nhsa import spec
from nhsa.cli._extras import needs_extra

__all__ = ["demo"]

LAB_NAME: Final = "demo-lab"
"""The name the demo lab's key files carry (``nhsa keys new --lab demo-lab``)."""
STARTUP_SECONDS: Final = 60.0
STOP_SECONDS: Final = 10.0
HIS_READ_TIMEOUT: Final = 2.0
"""Seconds the reference HIS waits for an answer the mock withholds (commit-then-drop)."""
_NHSA: Final = ("-c", "from nhsa.cli import main; main()")


class DemoError(Exception):
    """The demo could not run: a server did not start, the reference HIS is missing."""


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _fail(message: str, code: int = 2) -> NoReturn:
    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def demo(
    stage: Annotated[
        str, typer.Option("--stage", help="all, or stages to run (comma-separated).")
    ] = "all",
    report_dir: Annotated[
        Path | None,
        typer.Option("--report-dir", help="Reports and the lab key (default: a new temp dir)."),
    ] = None,
    step_timeout: Annotated[
        float, typer.Option("--step-timeout", min=1.0, help="Seconds a step may take.")
    ] = 30.0,
) -> None:
    """Run every conformance stage against the reference HIS over HTTP, and sign the report."""
    with needs_extra("conformance", "demo"):
        from nhsa.cli import conformance_commands  # noqa: PLC0415, F401 - the extra, checked first
    _check_contract()
    reports = report_dir or Path(tempfile.mkdtemp(prefix="nhsa-demo-"))
    work = Path(tempfile.mkdtemp(prefix="nhsa-demo-run-"))
    try:
        code = _run(stage, reports, work, step_timeout)
    except DemoError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted; both servers were stopped", code=130)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raise typer.Exit(code)


def _check_contract() -> None:
    contract = spec.contract()
    bad = [
        f"{infno} {example.name}"
        for infno, transaction in sorted(contract.transactions.items())
        for example in transaction.examples
        if spec.validate_request(example.request) or spec.validate_response(example.response, infno)
    ]
    if bad:
        _fail(f"the contract's own examples do not validate: {', '.join(bad)}")
    _out().print(
        f"contract interface_specs/{contract.version}: "
        f"{len(contract.transactions)} transactions, every example message valid"
    )


def _run(stage: str, reports: Path, work: Path, step_timeout: float) -> int:
    root = _checkout_root()
    token = secrets.token_urlsafe(24)
    out = _out()
    with contextlib.ExitStack() as stack:
        mock = stack.enter_context(
            _service(
                "mock platform",
                [*_NHSA, "mock", "serve", "--port", "0", "--db", str(work / "mock.db"),
                 "--admin-token", token],
                work,
            )
        )  # fmt: skip
        out.print(f"mock platform   {mock} (nhsa mock serve)")
        his = stack.enter_context(
            _service(
                "reference HIS",
                ["-m", "examples.reference_his", "--port", "0", "--data-dir", str(work / "his"),
                 "--read-timeout", str(HIS_READ_TIMEOUT)],
                work,
                cwd=root,
            )
        )  # fmt: skip
        out.print(f"reference HIS   {his} (python -m examples.reference_his)")
        out.print(
            f"running: nhsa conformance run --stage {stage} --driver {his} --mock {mock} "
            f"--report-dir {reports}"
        )
        code = _conformance(
            "run", stage=stage, driver=his, mock=mock, admin_token=token, report_dir=reports,
            step_timeout=step_timeout,
        )  # fmt: skip
    report = reports / "report.json"
    if not report.is_file():
        raise DemoError(f"the run wrote no report at {report}")
    _sign(report, reports)
    out.print(f"HTML report     {reports / 'report.html'}")
    verdict = "[green]PASS[/green]" if code == 0 else f"[red]NOT PASSED (exit {code})[/red]"
    out.print(f"demo result     {verdict}")
    return code


def _conformance(name: str, **options: Any) -> int:
    """``nhsa conformance NAME`` with these options, in this process; its exit code."""
    from nhsa.cli import conformance_commands  # noqa: PLC0415 - the suite's extra, on demand

    command: Callable[..., None] = getattr(conformance_commands, name)
    try:
        command(**options)
    except typer.Exit as stop:
        return stop.exit_code
    return 0


def _sign(report: Path, folder: Path) -> None:
    """A lab key (``nhsa keys new --lab``) and a detached signature over the report, verified."""
    from nhsa.cli import keys_commands  # noqa: PLC0415

    keys = folder / "lab-key"
    keys_commands.new(lab=LAB_NAME, out=keys, force=True)
    private, public = keys / f"{LAB_NAME}.sm2.key.pem", keys / f"{LAB_NAME}.sm2.pub.pem"
    for name, options in (
        ("sign", {"report": report, "key": private}),
        ("verify", {"report": report, "pub": public}),
    ):
        code = _conformance(name, **options)
        if code != 0:
            raise DemoError(f"nhsa conformance {name} {report} failed (exit {code})")


def _checkout_root() -> Path:
    """The source checkout holding ``examples/reference_his`` (the demo's HIS)."""
    root = Path(nhsa.__file__).resolve().parents[2]
    if not (root / "examples" / "reference_his" / "__main__.py").is_file():
        raise DemoError(
            f"the reference HIS (examples/reference_his) is not beside this installation "
            f"({root}); run nhsa demo from a source checkout installed with 'make'"
        )
    return root


@contextlib.contextmanager
def _service(
    name: str, args: Sequence[str], work: Path, *, cwd: Path | None = None
) -> Iterator[str]:
    """Start ``python ARGS`` in its own session; yield the URL it prints; stop it at the end."""
    log = (work / f"{name.replace(' ', '-')}.log").open("w+", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if cwd is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd), env.get("PYTHONPATH")]))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the demo, which stops the servers in order
    )
    try:
        yield _await_url(name, process, log)
    finally:
        _stop(process)
        log.close()


def _await_url(name: str, process: subprocess.Popen[str], log: IO[str]) -> str:
    found: list[str] = []
    ready, ended = threading.Event(), threading.Event()

    def read(stream: IO[str]) -> None:
        for line in stream:  # keep draining, so the server never blocks on a full pipe
            if not found and " on http://" in line:
                found.append(line.split(" on ", 1)[1].split()[0])
                ready.set()
        ended.set()
        ready.set()

    assert process.stdout is not None  # opened with stdout=PIPE
    threading.Thread(target=read, args=(process.stdout,), daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            break
    if found:
        return found[0]
    if ended.is_set():  # its output ended: it is exiting; learn how
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_SECONDS)
    log.flush()
    log.seek(0)
    tail = "".join(log.readlines()[-15:]).strip() or "(no output)"
    status = process.poll()
    why = f"exited with {status}" if status is not None else f"not ready in {STARTUP_SECONDS:g} s"
    raise DemoError(f"the {name} did not start ({why}):\n{tail}")


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGINT (a clean shutdown), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
