"""就医地目录: the treatment place's catalogue, and pricing one fee line against it.

What a line may claim follows the catalogue of the place of treatment (reference §6.2). Pricing
an uploaded 2204 ``feedetail`` row splits its total into four parts (reference §3.8, §6.1 step 1):

- ``fulamt_ownpay_amt`` 全自费: the whole line if it is 丙类 or not in the catalogue;
- ``overlmt_amt`` 超限价: ``max(0, pric − pric_uplmt_amt) × cnt``;
- ``preselfpay_amt`` 先行自付: ``round((det − fulamt − overlmt) × selfpay_prop, 2)`` for 乙类;
- ``inscp_scp_amt`` 符合政策范围: the remainder.

The real sample (4.52 at selfpay_prop 0.05 → 0.23 / 4.29) is a golden test.

Over-limit amounts are the patient's by default; a catalogue may say the hospital bears them
(就医地管理: the treatment place's agency forbids billing patients above the capped price),
in which case the line's ``hosp_part_amt`` carries them and settlement shows a 999996 row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from nhsa.mock.settlement._codes import Flag, MedChrgitmTypeCode
from nhsa.mock.settlement._errors import AmountMismatchError, FeeLineError
from nhsa.mock.settlement._money import (
    NO_PRICE_CAP,
    ZERO,
    Ratio,
    UnitPrice,
    to_decimal,
)
from nhsa.money import cents


class ChargeClass(StrEnum):
    """收费项目等级 ``chrgitm_lv``: how much of an item the insurance may cover.

    Example:
        >>> ChargeClass("02").name
        'CLASS_B'
    """

    CLASS_A = "01"
    """甲类: fully in scope."""
    CLASS_B = "02"
    """乙类: in scope after a first self-pay share (``selfpay_prop``)."""
    CLASS_C = "03"
    """丙类/自费: never covered."""


_MODEL = ConfigDict(frozen=True, extra="forbid")
_NOT_IN_CATALOGUE_TYPE = "14"  # 其他费: the result row must carry a category even then


class CatalogueItem(BaseModel):
    """One item of a treatment place's catalogue (药品, 诊疗项目, 医用耗材).

    Example:
        >>> item = CatalogueItem(med_list_codg="X1", name="阿莫西林胶囊", chrgitm_lv="02",
        ...                      med_chrgitm_type="09", selfpay_prop=Decimal("0.05"))
        >>> item.has_price_cap
        False
    """

    model_config = _MODEL

    med_list_codg: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    chrgitm_lv: ChargeClass
    med_chrgitm_type: MedChrgitmTypeCode
    selfpay_prop: Ratio = Decimal("0")
    pric_uplmt_amt: UnitPrice = NO_PRICE_CAP
    lmt_used_flag: Flag = "0"
    bas_medn_flag: Flag = "0"
    hi_nego_drug_flag: Flag = "0"
    chld_medc_flag: Flag = "0"
    list_sp_item_flag: Flag = "0"
    drt_reim_flag: Flag = "0"

    @model_validator(mode="after")
    def _selfpay_only_for_class_b(self) -> CatalogueItem:
        if self.selfpay_prop != 0 and self.chrgitm_lv is not ChargeClass.CLASS_B:
            raise ValueError(
                f"selfpay_prop: only 乙类 (chrgitm_lv 02) items have a first self-pay ratio; "
                f"{self.med_list_codg} is {self.chrgitm_lv.value} with {self.selfpay_prop}"
            )
        return self

    @property
    def has_price_cap(self) -> bool:
        """Whether a unit price above ``pric_uplmt_amt`` is out of scope (999999 = no cap)."""
        return self.pric_uplmt_amt != NO_PRICE_CAP


class Catalogue(BaseModel):
    """The catalogue of one treatment area (``mdtrtarea_admvs``).

    Example:
        >>> cat = Catalogue(admdvs="530100", name="昆明市", items=(
        ...     CatalogueItem(med_list_codg="X1", name="血常规", chrgitm_lv="01",
        ...                   med_chrgitm_type="04"),))
        >>> cat.item("X1").name, cat.item("nope")
        ('血常规', None)
    """

    model_config = _MODEL

    admdvs: str = Field(pattern=r"^[0-9]{6}$")
    name: str = Field(min_length=1)
    overlimit_payer: Literal["patient", "hospital"] = "patient"
    items: tuple[CatalogueItem, ...] = Field(min_length=1)
    _index: MappingProxyType[str, CatalogueItem] = PrivateAttr()

    @model_validator(mode="after")
    def _unique_codes(self) -> Catalogue:
        index: dict[str, CatalogueItem] = {}
        for position, item in enumerate(self.items):
            if item.med_list_codg in index:
                raise ValueError(
                    f"items[{position}]: med_list_codg {item.med_list_codg!r} is listed twice"
                )
            index[item.med_list_codg] = item
        self._index = MappingProxyType(index)
        return self

    def item(self, med_list_codg: str) -> CatalogueItem | None:
        """The item with this national code, or ``None`` when the catalogue lacks it."""
        return self._index.get(med_list_codg)


@dataclass(frozen=True)
class UnpricedLine:
    """A fee line before pricing: the fields of a 2204 ``feedetail`` row the catalogue split needs.

    Example::

        line = UnpricedLine(row.feedetl_sn, row.med_list_codg, row.pric, row.cnt,
                            row.det_item_fee_sumamt)   # a 2204 feedetail row
        priced = price_line(line, ctx.catalogue())
    """

    feedetl_sn: str
    med_list_codg: str
    pric: Decimal
    cnt: Decimal
    det_item_fee_sumamt: Decimal


@dataclass(frozen=True)
class PricedLine:
    """A fee line split by the catalogue: the 2204 ``result`` row plus the hospital's share.

    Example:
        >>> cat = Catalogue(admdvs="530100", name="昆明市", items=(CatalogueItem(
        ...     med_list_codg="X1", name="阿莫西林胶囊", chrgitm_lv="02",
        ...     med_chrgitm_type="09", selfpay_prop=Decimal("0.05")),))
        >>> line = UnpricedLine("F001", "X1", Decimal("4.52"), Decimal("1"), Decimal("4.52"))
        >>> priced = price_line(line, cat)
        >>> priced.preselfpay_amt, priced.inscp_scp_amt
        (Decimal('0.23'), Decimal('4.29'))
    """

    line: UnpricedLine
    item: CatalogueItem | None
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    hosp_part_amt: Decimal

    @property
    def det_item_fee_sumamt(self) -> Decimal:
        """The line total (明细项目费用总额)."""
        return self.line.det_item_fee_sumamt

    @property
    def chrgitm_lv(self) -> ChargeClass:
        """The line's class; an item missing from the catalogue counts as 丙类."""
        return self.item.chrgitm_lv if self.item is not None else ChargeClass.CLASS_C

    @property
    def selfpay_prop(self) -> Decimal:
        """The self-pay ratio as the result row reports it (1 for 丙类 and unknown items)."""
        if self.item is None or self.item.chrgitm_lv is ChargeClass.CLASS_C:
            return Decimal("1")
        return self.item.selfpay_prop

    def refund(self) -> PricedLine:
        """The same line as an inpatient refund line (退单): quantity and amounts negated.

        Example:
            >>> cat = Catalogue(admdvs="530100", name="昆明市", items=(CatalogueItem(
            ...     med_list_codg="X1", name="阿莫西林胶囊", chrgitm_lv="02",
            ...     med_chrgitm_type="09", selfpay_prop=Decimal("0.05")),))
            >>> line = UnpricedLine("F002", "X1", Decimal("4.52"), Decimal("1"), Decimal("4.52"))
            >>> back = price_line(line, cat).refund()
            >>> back.line.cnt, back.det_item_fee_sumamt, back.preselfpay_amt
            (Decimal('-1'), Decimal('-4.52'), Decimal('-0.23'))
        """
        line = self.line
        return PricedLine(
            line=UnpricedLine(
                line.feedetl_sn, line.med_list_codg, line.pric, -line.cnt,
                ZERO - line.det_item_fee_sumamt,
            ),
            item=self.item,
            fulamt_ownpay_amt=ZERO - self.fulamt_ownpay_amt,
            overlmt_amt=ZERO - self.overlmt_amt,
            preselfpay_amt=ZERO - self.preselfpay_amt,
            inscp_scp_amt=ZERO - self.inscp_scp_amt,
            hosp_part_amt=ZERO - self.hosp_part_amt,
        )  # fmt: skip

    def result_row(self) -> dict[str, object]:
        """The 2204 ``result`` row, with the reference §3.8 field names.

        Example:
            >>> cat = Catalogue(admdvs="530100", name="昆明市", items=(CatalogueItem(
            ...     med_list_codg="X1", name="血常规", chrgitm_lv="01", med_chrgitm_type="04"),))
            >>> row = price_line(UnpricedLine("F1", "X1", Decimal("20"), Decimal("1"),
            ...                          Decimal("20.00")), cat).result_row()
            >>> row["inscp_scp_amt"], row["chrgitm_lv"]
            (Decimal('20.00'), '01')
        """
        item = self.item
        return {
            "feedetl_sn": self.line.feedetl_sn,
            "det_item_fee_sumamt": self.line.det_item_fee_sumamt,
            "cnt": self.line.cnt,
            "pric": self.line.pric,
            "pric_uplmt_amt": item.pric_uplmt_amt if item is not None else NO_PRICE_CAP,
            "selfpay_prop": self.selfpay_prop,
            "fulamt_ownpay_amt": self.fulamt_ownpay_amt,
            "overlmt_amt": self.overlmt_amt,
            "preselfpay_amt": self.preselfpay_amt,
            "inscp_scp_amt": self.inscp_scp_amt,
            "chrgitm_lv": self.chrgitm_lv.value,
            "med_chrgitm_type": item.med_chrgitm_type if item else _NOT_IN_CATALOGUE_TYPE,
            "bas_medn_flag": item.bas_medn_flag if item else "0",
            "hi_nego_drug_flag": item.hi_nego_drug_flag if item else "0",
            "chld_medc_flag": item.chld_medc_flag if item else "0",
            "list_sp_item_flag": item.list_sp_item_flag if item else "0",
            "lmt_used_flag": item.lmt_used_flag if item else "0",
            "drt_reim_flag": item.drt_reim_flag if item else "0",
            "memo": None if item else "not in the treatment place's catalogue: fully self-paid",
        }


def price_line(line: UnpricedLine, catalogue: Catalogue) -> PricedLine:
    """Split one fee line by the treatment place's catalogue (the 2204 answer's arithmetic).

    Raises :class:`AmountMismatchError` when ``det_item_fee_sumamt`` is not
    ``round(pric × cnt, 2)`` and :class:`FeeLineError` for a non-positive quantity or a
    negative price (outpatient refunds go through 2205/2208, not negative lines).

    Example:
        >>> cat = Catalogue(admdvs="530100", name="昆明市", items=(CatalogueItem(
        ...     med_list_codg="X1", name="血常规", chrgitm_lv="01", med_chrgitm_type="04"),))
        >>> try:
        ...     price_line(UnpricedLine("F1", "X1", Decimal("20"), Decimal("2"), Decimal("41")),
        ...                cat)
        ... except AmountMismatchError as err:
        ...     print(err.field, "/", err.rule[:42])
        det_item_fee_sumamt / 41 must equal round(pric × cnt, 2) = 40.00
    """
    pric, cnt = to_decimal(line.pric), to_decimal(line.cnt)
    det = to_decimal(line.det_item_fee_sumamt)
    if cnt <= 0:
        raise FeeLineError(line.feedetl_sn, "cnt", f"{cnt} must be greater than 0")
    if pric < 0:
        raise FeeLineError(line.feedetl_sn, "pric", f"{pric} must not be negative")
    expected = cents(pric * cnt)
    if det != expected:
        raise AmountMismatchError(
            line.feedetl_sn, declared=det, expected=expected, pric=pric, cnt=cnt
        )
    det = expected  # carry the two-decimal form from here on

    item = catalogue.item(line.med_list_codg)
    if item is None or item.chrgitm_lv is ChargeClass.CLASS_C:
        return PricedLine(line, item, det, ZERO, ZERO, ZERO, ZERO)

    overlmt = cents(max(ZERO, pric - item.pric_uplmt_amt) * cnt) if item.has_price_cap else ZERO
    preselfpay = cents((det - overlmt) * item.selfpay_prop)
    hosp_part = overlmt if catalogue.overlimit_payer == "hospital" else ZERO
    return PricedLine(
        line=line,
        item=item,
        fulamt_ownpay_amt=ZERO,
        overlmt_amt=overlmt,
        preselfpay_amt=preselfpay,
        inscp_scp_amt=det - overlmt - preselfpay,
        hosp_part_amt=hosp_part,
    )
