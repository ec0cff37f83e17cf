"""Every way a conformance run can refuse to start or stop early, as named errors.

None of these is a verdict on the HIS — a verdict is a :class:`~nhsa.conformance.Status` in
the report. These are problems with the *inputs* of a run (a scenario file, the requirements,
a lab's check plug-in, a driver or mock that cannot be reached), and each message names the
file and line, or the URL, and what is wrong. The CLI prints the message and exits 2; it never
prints a traceback and never writes a green report.

::

    ConformanceError
    ├── DataFileError              a data file is malformed (file, line, what)
    │   ├── ScenarioError          a scenario YAML file
    │   └── RequirementsError      requirements.csv
    ├── CheckRegistryError         a check is registered twice, names an unknown requirement,
    │                              or a lab's entry point fails to load
    ├── DriverError                the system under test cannot be driven
    │   ├── UnknownDriverError     --driver names no driver of this installation
    │   ├── DriverUnavailableError the driver cannot be reached (URL, reason)
    │   └── DriverProtocolError    the driver answered something that is not a result
    ├── MockError                  the mock platform misbehaved as an instrument
    │   └── MockUnavailableError   the mock cannot be reached (URL, reason)
    └── ReportSignatureError       a report or its signature cannot be signed or verified

Example:
    >>> str(ScenarioError("stages/lab/a.yaml", 7, "unknown action 'chrage'"))
    "stages/lab/a.yaml:7: unknown action 'chrage'"
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CheckRegistryError",
    "ConformanceError",
    "DataFileError",
    "DriverError",
    "DriverProtocolError",
    "DriverUnavailableError",
    "MockError",
    "MockUnavailableError",
    "ReportSignatureError",
    "RequirementsError",
    "ScenarioError",
    "UnknownDriverError",
    "read_data_file",
]


class ConformanceError(Exception):
    """Base of every error the conformance suite raises on purpose.

    Example:
        >>> issubclass(ScenarioError, ConformanceError)
        True
    """


class DataFileError(ConformanceError):
    """A data file of the suite is malformed; the message starts with ``file:line:``.

    Example:
        >>> str(DataFileError("req.csv", None, "empty file"))
        'req.csv: empty file'
    """

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


def read_data_file(path: Path, error: type[DataFileError], *, encoding: str = "utf-8") -> str:
    """The text of a data file, or ``error`` saying why it cannot be read.

    Example:
        >>> read_data_file(Path("r.csv"), RequirementsError)
        Traceback (most recent call last):
        nhsa.conformance._errors.RequirementsError: r.csv: cannot read: No such file or directory
    """
    try:
        return path.read_text(encoding=encoding)
    except OSError as exc:
        raise error(path, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(path, None, "not UTF-8 text") from None


class ScenarioError(DataFileError):
    """A scenario file is malformed: unknown key, action, check, bad reference or type."""


class RequirementsError(DataFileError):
    """``requirements.csv`` is malformed: a missing column, a bad level, a duplicate id.

    Example:
        >>> str(RequirementsError("r.csv", 2, "duplicate id HIS-MSG-001"))
        'r.csv:2: duplicate id HIS-MSG-001'
    """


class CheckRegistryError(ConformanceError):
    """A check cannot be registered or loaded (duplicate name, unknown requirement id)."""


class DriverError(ConformanceError):
    """The system under test cannot be driven.

    Example:
        >>> issubclass(DriverUnavailableError, DriverError)
        True
    """


class UnknownDriverError(DriverError):
    """``--driver`` names a driver this installation does not have."""


class DriverUnavailableError(DriverError):
    """The driver (a HIS's driver API, or the SDK driver's platform) cannot be reached.

    Example:
        >>> str(DriverUnavailableError("http://127.0.0.1:9/health", "connection refused"))
        'driver at http://127.0.0.1:9/health is unreachable: connection refused'
    """

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"driver at {where} is unreachable: {reason}")


class DriverProtocolError(DriverError):
    """The driver answered, but not with a result of the driver API (garbage, wrong shape).

    Example:
        >>> isinstance(DriverProtocolError("<html>502</html> is not a result"), DriverError)
        True
    """


class MockError(ConformanceError):
    """The mock platform, used as the instrument, refused or failed an operation.

    Example:
        >>> issubclass(MockUnavailableError, MockError)
        True
    """


class MockUnavailableError(MockError):
    """The mock platform cannot be reached.

    Example:
        >>> str(MockUnavailableError("http://127.0.0.1:8700/admin/health", "timed out"))
        'mock platform at http://127.0.0.1:8700/admin/health is unreachable: timed out'
    """

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"mock platform at {where} is unreachable: {reason}")


class ReportSignatureError(ConformanceError):
    """A report cannot be signed, or its signature file is unreadable or does not verify."""
