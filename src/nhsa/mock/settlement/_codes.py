"""Code fields of policy and catalogue data, checked against the contract's code tables.

A code that is not in ``interface_specs/v1/codes/<table>.json`` would make the mock emit an
answer that fails its own contract, so data carrying one is refused when it is loaded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator

from nhsa import spec


def coded(table: str) -> AfterValidator:
    """A pydantic validator admitting only the codes of one contract code table.

    Example:
        >>> from typing import Annotated
        >>> from pydantic import TypeAdapter
        >>> gend = TypeAdapter(Annotated[str, coded("gend")])
        >>> gend.validate_python("1")
        '1'
        >>> try:
        ...     gend.validate_python("7")
        ... except ValueError as err:
        ...     print(err.errors()[0]["msg"])
        Value error, '7' is not a gend code (性别)
    """

    def check(code: str) -> str:
        codes = spec.code_table(table)
        if code not in codes:
            raise ValueError(f"{code!r} is not a {table} code ({codes.title})")
        return code

    return AfterValidator(check)


InsutypeCode = Annotated[str, coded("insutype")]
"""险种类型, e.g. ``"310"``."""

MedTypeCode = Annotated[str, coded("med_type")]
"""医疗类别, e.g. ``"11"`` 普通门诊."""

PsnTypeCode = Annotated[str, coded("psn_type")]
"""人员类别, e.g. ``"1201"`` 职工退休."""

FundPayTypeCode = Annotated[str, coded("fund_pay_type")]
"""基金支付类型 of a setldetail row, e.g. ``"310100"``."""

MedChrgitmTypeCode = Annotated[str, coded("med_chrgitm_type")]
"""医疗收费项目类别, e.g. ``"09"`` 西药费."""

OpspDiseCode = Annotated[str, coded("opsp_dise_code")]
"""门慢门特病种目录代码 of the mock's disease list, e.g. ``"M03900"`` 高血压病."""

Flag = Literal["0", "1"]
"""A yes/no flag as the wire carries it."""

HospLevel = Literal["1", "2", "3"]
"""Hospital tier (级) as policies distinguish it: 1 一级及以下, 2 二级, 3 三级.

This is our coarse vocabulary for policy lookup, not the national ``hosp_lv`` code table
(which also carries the grade 甲/乙/丙 and was not found in the reference).
"""


def fund_pay_type_name(code: str) -> str:
    """The Chinese name of a ``fund_pay_type`` code, as ``fund_pay_type_name`` carries it.

    Example:
        >>> fund_pay_type_name("310200")
        '职工基本医疗保险个人账户基金'
    """
    return spec.code_table("fund_pay_type").name_of(code)
