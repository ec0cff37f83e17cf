"""README.md runs as written: every ``sh`` and ``python`` block, as a newcomer would type it.

Blocks are found between fences; the line right above a fence may hold a marker:

- ``<!-- readme-test: skip — REASON -->``: illustrative (a production path under /etc, an
  install into the reader's environment); not run, and the reason is required;
- ``<!-- readme-test: server -->``: one long-running command (``nhsa mock serve``, the
  reference HIS) — started in the background, waited for until its ``--port`` listens, and
  stopped when its section (the README heading it is under) ends.

Every other block runs. The ``sh`` blocks of one section run in one bash session
(``set -euo pipefail``), in order, so what one exports the next sees — one terminal, with the
servers in others — in a fresh folder that has the checkout's ``examples/`` in it (README's
commands run from a checkout); each ``python`` block runs alone in such a folder. The only
change made to the text: the ports README names (8700, 9000) become free ones, since other
runs share this machine. ``$NHSA_MOCK_ADMIN_TOKEN`` is removed from the environment, so a
block that forgets to set it fails as it would for a reader.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RUNNABLE = ("sh", "python")
README_PORTS = ("8700", "9000")
SECTION_SECONDS = 300

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!-- readme-test: (?P<kind>[a-z]+)(?: — (?P<reason>.*?))? -->$")
_HEADING = re.compile(r"^#{1,6} (?P<title>.+)$")


@dataclass(frozen=True)
class Block:
    """One fenced block of README.md."""

    language: str
    text: str
    line: int  # of the opening fence
    section: str
    marker: str | None = None
    reason: str | None = None

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and self.marker != "skip"


def readme_blocks() -> list[Block]:
    """Every fenced block, with the heading it is under and the marker right above it."""
    blocks: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    section, index = "(top)", 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence is None:
            heading = _HEADING.match(line)
            section = heading.group("title") if heading else section
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        marker = _MARKER.match(lines[index - 1]) if index else None
        blocks.append(
            Block(
                fence.group(1),
                "\n".join(lines[index + 1 : end]) + "\n",
                index + 1,
                section,
                marker.group("kind") if marker else None,
                marker.group("reason") if marker else None,
            )
        )
        index = end + 1
    return blocks


BLOCKS = readme_blocks()
SHELL_SECTIONS = sorted({b.section for b in BLOCKS if b.runs and b.language == "sh"})
PYTHON_BLOCKS = [b for b in BLOCKS if b.runs and b.language == "python"]


def test_every_block_runs_or_says_why_not() -> None:
    languages = {b.language for b in BLOCKS}
    assert languages <= {*RUNNABLE, ""}, f"unexpected fence languages: {languages}"
    for block in BLOCKS:
        where = f"README.md:{block.line}"
        assert block.marker in (None, "skip", "server"), f"{where}: unknown marker {block.marker}"
        if block.marker == "skip":
            assert block.reason, f"{where}: a skipped block needs a reason"
        if block.marker == "server":
            assert block.language == "sh", f"{where}: only a sh block can be a server"
            assert "--port" in block.text, f"{where}: a server block names its --port"
    # The newcomer's path: the contract, the SDK in-process, the mock over HTTP, a lab signing.
    assert len(PYTHON_BLOCKS) >= 3
    assert {"The contract", "Client SDK", "Mock platform", "Conformance suite"} <= set(
        SHELL_SECTIONS
    )


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def _with_free_ports(text: str, ports: dict[str, str]) -> str:
    for readme_port, free in ports.items():
        text = re.sub(rf"(?<!\d){readme_port}(?!\d)", free, text)
    return text


_PRELUDE = """set -euo pipefail
_readme_servers=()
_readme_stop() {
  for pid in "${_readme_servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap _readme_stop EXIT
_readme_wait() {  # port pid log: until the server listens; fail if it exits first
  for _ in $(seq 600); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "readme-test: the server logging to $3 exited:" >&2; cat "$3" >&2; return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "readme-test: nothing listens on port $1 after 60 s" >&2; cat "$3" >&2; return 1
}
"""


def _server(block: Block, text: str) -> str:
    """Run the block's one command in the background (exec'd, so its pid is the server's)."""
    port = re.search(r"--port (\d+)", text)
    assert port is not None, f"README.md:{block.line}: a server block names its --port"
    log = f"server-{block.line}.log"
    command = re.sub(r"^(?!\s*#)", "exec ", text, count=1, flags=re.MULTILINE)
    return (
        f"( {command}) > {log} 2>&1 &\n"
        f"_readme_servers+=($!)\n"
        f"_readme_wait {port.group(1)} $! {log}\n"
    )


def section_script(section: str) -> str:
    """The bash script of a section's sh blocks, servers started in the background."""
    ports = {port: _free_port() for port in README_PORTS}
    parts = [_PRELUDE]
    for block in BLOCKS:
        if block.section != section or not block.runs or block.language != "sh":
            continue
        text = _with_free_ports(block.text, ports)
        parts.append(f"# README.md:{block.line}\n")
        parts.append(_server(block, text) if block.marker == "server" else text)
    return "".join(parts)


def _folder(tmp_path: Path) -> Path:
    """A fresh folder standing in for the checkout root a reader types in."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(REPO / "examples")
    return work


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NHSA_MOCK_ADMIN_TOKEN", "PYTHONPATH")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    return env


def _run(command: list[str], work: Path) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        command,
        cwd=work,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: whatever it started ends with it
    )
    try:
        stdout, stderr = process.communicate(timeout=SECTION_SECONDS)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize("section", SHELL_SECTIONS)
def test_the_shell_blocks_of_a_section_run(section: str, tmp_path: Path) -> None:
    work = _folder(tmp_path)
    script = tmp_path / "section.sh"
    script.write_text(section_script(section), encoding="utf-8")
    done = _run(["bash", str(script)], work)
    logs = "".join(log.read_text("utf-8") for log in sorted(work.glob("server-*.log")))
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{section}:\n{output[-6000:]}\n{logs[-3000:]}"
    assert "Traceback" not in output + logs, f"{section}:\n{output[-6000:]}\n{logs[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"line-{b.line}" for b in PYTHON_BLOCKS])
def test_a_python_block_runs(block: Block, tmp_path: Path) -> None:
    work = _folder(tmp_path)
    program = tmp_path / f"readme_{block.line}.py"
    program.write_text(block.text, encoding="utf-8")
    done = _run([sys.executable, str(program)], work)
    assert done.returncode == 0, f"README.md:{block.line}:\n{done.stdout}\n{done.stderr}"
