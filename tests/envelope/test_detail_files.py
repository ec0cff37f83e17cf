"""The 3202 files: written by one side, read by the other — strictly by the platform,
tolerantly by the HIS."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest

from nhsa.envelope import (
    DetailFileError,
    DetailRow,
    ResultRow,
    read_detail_file,
    read_result_file,
    write_detail_file,
    write_result_file,
)

SETTLED = DetailRow(
    "4000000000001",
    "3000000000001",
    "P1",
    Decimal("120.00"),
    Decimal("72.80"),
    Decimal("47.20"),
    "0",
)
REFUND = DetailRow(
    "4000000000002",
    "3000000000001",
    "P1",
    Decimal("-120.00"),
    Decimal("-72.80"),
    Decimal("-47.20"),
    "1",
)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_detail_file_round_trips_with_tabs_and_exact_amounts() -> None:
    content = write_detail_file([SETTLED, REFUND], member="H53010100001_20261123.txt")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (name,) = archive.namelist()
        text = archive.read(name).decode("utf-8")
    assert name == "H53010100001_20261123.txt"
    assert text.splitlines()[1].split("\t") == [
        "4000000000002",
        "3000000000001",
        "P1",
        "-120.00",
        "-72.80",
        "-47.20",
        "1",
    ]
    assert read_detail_file(content) == [SETTLED, REFUND]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("S1\tV1\tP1\t1.00\t0\t1.00\n", "line 1: 6 TAB-separated columns, 7 expected"),
        ("S1\tV1\tP1\t1.001\t0\t1.00\t0\n", "line 1, column 4 (medfee_sumamt)"),
        ("S1\tV1\tP1\t1.00\t0\t1.00\t7\n", "line 1, column 7 (refd_setl_flag)"),
        ("\tV1\tP1\t1.00\t0\t1.00\t0\n", "line 1, column 1 (setl_id)"),
    ],
)
def test_the_platform_refuses_a_malformed_upload_naming_line_and_column(
    text: str, message: str
) -> None:
    with pytest.raises(DetailFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_detail_file(_zip({"detail.txt": text.encode()}))


def test_an_upload_must_be_one_text_file_in_a_zip() -> None:
    with pytest.raises(DetailFileError, match="not a ZIP"):
        read_detail_file(b"setl_id\tmdtrt_id")
    with pytest.raises(DetailFileError, match="exactly one text file"):
        read_detail_file(_zip({"a.txt": b"", "b.txt": b""}))


def test_a_gbk_upload_is_read() -> None:
    line = "S1\tV1\tP1\t1.00\t0\t1.00\t0\r\n".encode("gbk")
    assert read_detail_file(_zip({"明细.txt": line}))[0].setl_id == "S1"


def test_the_his_reads_the_result_tolerantly() -> None:
    header = "psn_no\tmdtrt_id\tsetl_id\tmsgid\tstmt_rslt\trefd_setl_flag\tmemo\n"
    short = "P1\tV1\tS1\tH53010100001202611231015300001\t1\t0\t中心多\t4.52\n"
    content = _zip({"readme.md": b"x", "out/result.txt": (header + short).encode()})
    (row,) = read_result_file(content)
    assert (row.stmt_rslt, row.memo, row.medfee_sumamt, row.acct_pay) == (
        "1",
        "中心多",
        Decimal("4.52"),
        Decimal(0),
    )


def test_result_file_round_trips() -> None:
    row = ResultRow(
        "P1",
        "V1",
        "S1",
        "H53010100001202611231015300001",
        "2",
        "0",
        "医药机构多",
        Decimal("4.52"),
        Decimal("0"),
        Decimal("4.52"),
    )
    assert read_result_file(write_result_file([row])) == [row]
    with pytest.raises(DetailFileError, match="no text file"):
        read_result_file(_zip({"result.bin": b"\x00"}))
