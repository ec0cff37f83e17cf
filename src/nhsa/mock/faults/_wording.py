"""The text and bytes faults answer with.

No public source records what the platform says when a back-end fails, so these wordings are
ours (inference), written the way the platform's known messages read: Chinese first, then an
English sentence that says what happened and what to do.

Example:
    >>> unreachable_message("440300").startswith("参保地医保系统网络异常")
    True
"""

from __future__ import annotations

from typing import Final

__all__ = ["garble", "realistic_business_error", "unreachable_message"]

_BUSINESS_ERRORS: Final[dict[str, str]] = {
    "1101": "人员信息获取失败：参保地返回人员参保信息异常，请稍后重试 / "
    "the insured place returned no usable insurance record: try again later",
    "2201": "门诊挂号失败：参保地业务处理异常，请核实参保信息后重试 / "
    "the insured place refused the registration: check the insurance data and retry",
    "2206": "预结算失败：参保地待遇计算异常，请联系参保地经办机构 / "
    "the insured place could not compute benefits: contact its insurance agency",
    "2207": "结算失败：参保地待遇计算异常，请联系参保地经办机构 / "
    "the insured place could not settle: nothing was booked; contact its insurance agency",
}
_DEFAULT_BUSINESS_ERROR: Final = (
    "业务处理失败：医保中心业务处理异常，请联系医保经办机构 / "
    "the platform could not process the transaction: nothing was booked; contact the agency"
)


def realistic_business_error(infno: str | None) -> str:
    """A plausible infcode -1 ``err_msg`` for ``infno``.

    Example:
        >>> realistic_business_error("2207").startswith("结算失败")
        True
    """
    return _BUSINESS_ERRORS.get(infno or "", _DEFAULT_BUSINESS_ERROR)


def unreachable_message(area: str | None) -> str:
    """The ``err_msg`` of a call the platform could not forward to the insured place.

    Example:
        >>> "440300" in unreachable_message("440300")
        True
    """
    where = area or "未知"
    return (
        f"参保地医保系统网络异常，无法连接：{where}，请稍后重试 / the platform cannot reach "
        f"the insured place {where}: nothing was booked; try again later"
    )


def garble(body: bytes) -> bytes:
    """A corrupted answer: the first half of ``body`` followed by bytes that are not UTF-8.

    The result is never valid JSON (the object is cut off) and never valid UTF-8, the two
    ways a body breaks in transit through a misbehaving proxy.

    Example:
        >>> garble(b'{"infcode":0,"output":{}}')
        b'{"infcode":0\\xff\\xfe\\x00garbled'
    """
    return body[: len(body) // 2] + b"\xff\xfe\x00garbled"
