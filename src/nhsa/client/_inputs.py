"""What a workflow is given: a certificate, a clinic, diagnoses, fee lines, a chronic disease.

Fields carry the national wire names, so a vendor reading the spec finds them. Each class
checks itself when built — an ID number with a wrong check digit, a float amount, a total that
is not quantity × price — so bad input is refused before anything can be sent.

Example:
    >>> from decimal import Decimal
    >>> line = FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("20.00"))
    >>> line.det_item_fee_sumamt
    Decimal('20.00')
    >>> Certificate.id_card("530102198503150018")
    Certificate(02, **************0018)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from nhsa.client._validation import (
    check_code,
    check_disease_code,
    check_id_number,
    check_text,
    to_decimal,
)
from nhsa.client.errors import InvalidInputError
from nhsa.money import cents
from nhsa.spec import code_table

CertificateType = Literal["01", "02", "03"]


@dataclass(frozen=True, repr=False)
class Certificate:
    """The certificate a patient presents (就诊凭证).

    Attributes:
        mdtrt_cert_type: ``01`` e-voucher token, ``02`` resident ID card, ``03``
            social-security card.
        mdtrt_cert_no: the token, ID number or card number.
        card_sn: the card's identification code (卡识别码); required for ``03``.

    Its ``repr`` shows only the last four characters of the number.

    Example:
        >>> Certificate.social_security_card("TA5300001", "530100D156000005")
        Certificate(03, *****0001)
    """

    mdtrt_cert_type: CertificateType
    mdtrt_cert_no: str
    card_sn: str | None = None

    def __post_init__(self) -> None:
        check_code("mdtrt_cert_type", self.mdtrt_cert_type, "mdtrt_cert_type")
        check_text(self.mdtrt_cert_no, "mdtrt_cert_no", 50)
        if self.mdtrt_cert_type == "02":
            check_id_number(self.mdtrt_cert_no, "mdtrt_cert_no")
        if self.mdtrt_cert_type == "03":
            if not self.card_sn:
                raise InvalidInputError(
                    "card_sn: required with a social-security card (mdtrt_cert_type 03)",
                    field="card_sn",
                    rule="required-with-card",
                )
            check_text(self.card_sn, "card_sn", 32)

    @classmethod
    def e_voucher(cls, token: str) -> Certificate:
        """The medical-insurance e-voucher (医保电子凭证): its scanned token.

        Example:
            >>> Certificate.e_voucher("ECTEST-530100-0001-4F2A9C1E").mdtrt_cert_type
            '01'
        """
        return cls("01", token)

    @classmethod
    def id_card(cls, number: str) -> Certificate:
        """A resident ID card (居民身份证): its 18-character number (GB 11643 checked).

        Example:
            >>> Certificate.id_card("530102198503150018").mdtrt_cert_type
            '02'
        """
        return cls("02", number.strip().upper())

    @classmethod
    def social_security_card(cls, number: str, card_sn: str) -> Certificate:
        """A social-security card (社会保障卡): card number and identification code.

        Example:
            >>> card = Certificate.social_security_card("TA5300001", "530100D1")
            >>> (card.mdtrt_cert_type, card.certno)  # the card number is not an ID number
            ('03', None)
        """
        return cls("03", number, card_sn)

    @property
    def certno(self) -> str | None:
        """The identity number to send as 1101 ``certno`` (the ID number itself for ``02``)."""
        return self.mdtrt_cert_no if self.mdtrt_cert_type == "02" else None

    def __repr__(self) -> str:
        number = self.mdtrt_cert_no
        masked = "*" * max(len(number) - 4, 0) + number[-4:]
        return f"Certificate({self.mdtrt_cert_type}, {masked})"


@dataclass(frozen=True)
class Clinic:
    """Where and with whom the patient registers (2201), also the default ordering doctor and
    department of fee lines and diagnoses.

    Example:
        >>> Clinic("0301", "", "D530100000101", "医师丁", "A03")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: dept_name: required, must not be empty
    """

    dept_code: str
    dept_name: str
    atddr_no: str
    dr_name: str
    caty: str

    def __post_init__(self) -> None:
        check_text(self.dept_code, "dept_code", 30)
        check_text(self.dept_name, "dept_name", 100)
        check_text(self.atddr_no, "atddr_no", 30)
        check_text(self.dr_name, "dr_name", 50)
        check_text(self.caty, "caty", 6)


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis of the visit (2203 ``diseinfo``).

    Example:
        >>> from nhsa import spec
        >>> spec.code_table("diag_type").name_of(Diagnosis("J06.900", "急性上呼吸道感染").diag_type)
        '西医诊断'
        >>> Diagnosis("J06.900", "急性上呼吸道感染", diag_type="9")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: diag_type: '9' is not a code of diag_type (诊断类别)
    """

    diag_code: str
    diag_name: str
    diag_type: str = "1"
    diag_time: datetime | None = None

    def __post_init__(self) -> None:
        check_text(self.diag_code, "diag_code", 20)
        check_text(self.diag_name, "diag_name", 100)
        check_code("diag_type", self.diag_type, "diag_type")


@dataclass(frozen=True)
class ChronicDisease:
    """A chronic or special outpatient disease (门慢/门特): what a chronic visit is charged under
    (``charge(..., chronic=...)``: med_type 14, 2203/2204 ``dise_codg``) and what
    ``register_chronic`` registers (2503).

    Attributes:
        code: the 门慢门特病种目录代码, M + 5 digits (checked when built).
        name: its name in the list (1 to 300 characters).

    Example:
        >>> ChronicDisease.of("M03900")
        ChronicDisease(code='M03900', name='高血压病')
        >>> ChronicDisease("I10", "高血压")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: chronic.code: 'I10' is not a chronic disease code \
(门慢门特病种目录代码: M + 5 digits, e.g. M03900)
    """

    code: str
    name: str

    def __post_init__(self) -> None:
        check_disease_code(self.code, "chronic.code")
        check_text(self.name, "chronic.name", 300)

    @classmethod
    def of(cls, code: str) -> ChronicDisease:
        """The disease ``code`` with its name from the contract's list (codes/opsp_dise_code).

        A code the list lacks is refused: build ``ChronicDisease(code, name)`` for a disease of
        your platform's own list.

        Example:
            >>> ChronicDisease.of("M99999")
            Traceback (most recent call last):
            ...
            nhsa.client.errors.InvalidInputError: chronic.code: 'M99999' is not in the chronic \
disease list (codes/opsp_dise_code.json); give its name: ChronicDisease(code, name)
        """
        check_disease_code(code, "chronic.code")
        diseases = code_table("opsp_dise_code")
        if code not in diseases:
            raise InvalidInputError(
                f"chronic.code: {code!r} is not in the chronic disease list "
                "(codes/opsp_dise_code.json); give its name: ChronicDisease(code, name)",
                field="chronic.code",
                rule="in-list",
            )
        return cls(code, diseases.name_of(code))


@dataclass(frozen=True)
class FeeLine:
    """One fee line (2204 ``feedetail``). Amounts must be exact: Decimal, int or a string.

    Attributes:
        med_list_codg: national catalogue code (医疗目录编码).
        medins_list_codg: the hospital's own item code (医药机构目录编码).
        cnt: quantity (> 0, at most 4 decimals).
        pric: unit price (≥ 0, at most 6 decimals).
        det_item_fee_sumamt: line total; computed as cnt × pric (half-up to the cent) when
            omitted, and when given it must equal that.
        feedetl_sn: serial unique within the visit; assigned by ``charge`` when omitted.
        fee_ocur_time: when the fee arose; ``charge`` uses the current time when omitted.
        rx_circ_flag, hosp_appr_flag: flags the spec requires (defaults: not an external
            prescription; no approval needed).
        medins_list_name: the hospital's own name for the item (医疗机构目录名称). Not a
            national member: sent only where the dialect has it (Guangdong requires it).

    Example:
        >>> FeeLine("XJ01CRA001A001010100001", "HIS-YP-0001", cnt=2, pric="30",
        ...         det_item_fee_sumamt="61.00")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: det_item_fee_sumamt: 61.00 is not cnt × pric \
= 2 × 30 = 60.00
    """

    med_list_codg: str
    medins_list_codg: str
    cnt: Decimal | int | str
    pric: Decimal | int | str
    det_item_fee_sumamt: Decimal | int | str | None = None
    feedetl_sn: str | None = None
    fee_ocur_time: datetime | None = None
    rx_circ_flag: str = "0"
    hosp_appr_flag: str = "0"
    medins_list_name: str | None = None

    def __post_init__(self) -> None:
        check_text(self.med_list_codg, "med_list_codg", 50)
        check_text(self.medins_list_codg, "medins_list_codg", 150)
        check_text(self.medins_list_name, "medins_list_name", 200, required=False)
        check_text(self.feedetl_sn, "feedetl_sn", 30, required=False)
        check_code("flag", self.rx_circ_flag, "rx_circ_flag")
        check_code("hosp_appr_flag", self.hosp_appr_flag, "hosp_appr_flag")
        cnt = to_decimal(self.cnt, "cnt", places=4)
        if cnt <= 0:
            raise InvalidInputError(
                f"cnt: {cnt} must be above 0 (refunds go through refund(), not negative lines)",
                field="cnt",
                rule="positive",
            )
        pric = to_decimal(self.pric, "pric", places=6)
        expected = cents(cnt * pric)
        total = expected
        if self.det_item_fee_sumamt is not None:
            total = to_decimal(self.det_item_fee_sumamt, "det_item_fee_sumamt", places=2)
            if total != expected:
                raise InvalidInputError(
                    f"det_item_fee_sumamt: {total} is not cnt × pric = {cnt} × {pric} = {expected}",
                    field="det_item_fee_sumamt",
                    rule="equals-cnt-times-pric",
                )
        object.__setattr__(self, "cnt", cnt)
        object.__setattr__(self, "pric", pric)
        object.__setattr__(self, "det_item_fee_sumamt", cents(total))

    @property
    def total(self) -> Decimal:
        """The line total (det_item_fee_sumamt) as a Decimal."""
        assert isinstance(self.det_item_fee_sumamt, Decimal)
        return self.det_item_fee_sumamt


@dataclass(frozen=True)
class Ward:
    """Where and with whom the patient is admitted (2401): department, bed, doctors — also
    the ordering department of the stay's fee lines (2301) and where it ends (2402).

    Attributes:
        dept_code, dept_name: the admitting department (``adm_dept_codg``, ``adm_dept_name``).
        bed: the bed (``adm_bed``).
        atddr_no: the attending doctor's national code (``atddr_no``).
        chfpdr_name: the doctor in charge (``chfpdr_name``).

    Example:
        >>> Ward("0302", "呼吸内科病区", "12床", "D530100000412", "医师庚").bed
        '12床'
    """

    dept_code: str
    dept_name: str
    bed: str
    atddr_no: str
    chfpdr_name: str

    def __post_init__(self) -> None:
        check_text(self.dept_code, "dept_code", 30)
        check_text(self.dept_name, "dept_name", 100)
        check_text(self.bed, "bed", 30)
        check_text(self.atddr_no, "atddr_no", 30)
        check_text(self.chfpdr_name, "chfpdr_name", 50)
