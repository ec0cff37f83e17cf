"""Who is being settled and where: the insured person's row, the visit, and how far from home.

Cross-region rules (reference §6.2) depend on two facts the engine knows before settling:

- the **locality** of the visit, from the two area codes (:func:`locality_of`);
- the person's **access** to direct settlement at this place (:func:`access_for`): a filed
  long-term resident (异地安置退休 / 异地长期居住 / 常驻异地工作) settles like a local, a filed
  referral (异地转诊) or an emergency (急诊抢救) loses a few points, anyone else (临时外出就医,
  unfiled) loses more. How many points is policy data (:class:`~.RatioDeltas`), not code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from nhsa.mock.settlement._errors import SettlementInputError


class Locality(StrEnum):
    """Where the visit happens, seen from the insured place.

    Example:
        >>> locality_of("440300", "530100")  # insured in Shenzhen, treated in Kunming
        <Locality.CROSS_PROVINCE: 'cross_province'>
    """

    LOCAL = "local"
    """Same pooling area (统筹区): no cross-region rule applies."""
    IN_PROVINCE = "in_province"
    """Another pooling area of the same province (省内异地)."""
    CROSS_PROVINCE = "cross_province"
    """Another province (跨省异地)."""


class FilingKind(StrEnum):
    """The kind of a filing (备案) a person holds with the insured place.

    Example:
        >>> FilingKind.RETIREE.settles_as_local
        True
    """

    RETIREE = "retiree"
    """异地安置退休: a retiree resettled at the filed place."""
    LONG_TERM_RESIDENT = "long_term_resident"
    """异地长期居住: lives at the filed place."""
    RESIDENT_WORKER = "resident_worker"
    """常驻异地工作: works at the filed place."""
    REFERRAL = "referral"
    """异地转诊: referred by a hospital of the insured place."""

    @property
    def settles_as_local(self) -> bool:
        """Long-term filings settle under the insured place's local standards."""
        return self is not FilingKind.REFERRAL


class Access(StrEnum):
    """The class of a cross-region visit that selects the ratio change in the policy.

    Example:
        >>> access_for(None, emergency=True)
        <Access.EMERGENCY: 'emergency'>
    """

    FILED_RESIDENT = "filed_resident"
    REFERRAL = "referral"
    EMERGENCY = "emergency"
    TEMPORARY = "temporary"


def access_for(filing: FilingKind | None, *, emergency: bool) -> Access:
    """The access class of a visit, from the filing that covers it (or ``None``) and urgency.

    A filing counts only where it was filed; the caller passes ``None`` when the person's
    filing does not cover this treatment place.

    Example:
        >>> access_for(FilingKind.LONG_TERM_RESIDENT, emergency=True)
        <Access.FILED_RESIDENT: 'filed_resident'>
        >>> access_for(None, emergency=False)
        <Access.TEMPORARY: 'temporary'>
    """
    if filing is not None and filing.settles_as_local:
        return Access.FILED_RESIDENT
    if filing is FilingKind.REFERRAL:
        return Access.REFERRAL
    return Access.EMERGENCY if emergency else Access.TEMPORARY


def pooling_area(admdvs: str) -> str:
    """The pooling area (统筹区) of an area code: its first four digits.

    [inference] Basic medical insurance is pooled at city level (市级统筹), so a district code
    (530102) belongs to its city's pooling area (5301). Provinces that pool at province level
    would need a different rule.

    Example:
        >>> pooling_area("530102") == pooling_area("530100")
        True
    """
    return admdvs[:4]


def locality_of(insuplc_admdvs: str, mdtrtarea_admvs: str) -> Locality:
    """How far the treatment place is from the insured place.

    Example:
        >>> locality_of("530100", "530102"), locality_of("530300", "530100")
        (<Locality.LOCAL: 'local'>, <Locality.IN_PROVINCE: 'in_province'>)
        >>> locality_of("440300", "530100")
        <Locality.CROSS_PROVINCE: 'cross_province'>
    """
    if pooling_area(insuplc_admdvs) == pooling_area(mdtrtarea_admvs):
        return Locality.LOCAL
    if insuplc_admdvs[:2] == mdtrtarea_admvs[:2]:
        return Locality.IN_PROVINCE
    return Locality.CROSS_PROVINCE


@dataclass(frozen=True)
class Visit:
    """The visit being settled: medical category, hospital tier, locality and access.

    ``access`` is required for a cross-region visit and ignored for a local one.
    ``dise_codg`` is the recognised chronic disease of a med_type 14 visit (门慢/门特), which
    selects the disease's own terms in the policy; ``None`` for any other visit.

    Example:
        >>> try:
        ...     Visit("11", "3", Locality.CROSS_PROVINCE)
        ... except SettlementInputError as error:
        ...     print(str(error)[:13])
        visit.access:
    """

    med_type: str
    hosp_level: str
    locality: Locality = Locality.LOCAL
    access: Access | None = None
    dise_codg: str | None = None

    def __post_init__(self) -> None:
        if self.locality is not Locality.LOCAL and self.access is None:
            raise SettlementInputError(
                "visit.access",
                f"a {self.locality.value} visit needs its access class "
                "(filed_resident, referral, emergency or temporary)",
            )


@dataclass(frozen=True)
class Insured:
    """The person's insurance row (1101 ``insuinfo``) for the insutype of this visit.

    ``balance`` is the personal account balance before this settlement (0 without an
    account); ``identities`` are the person's ``psn_idet_type`` codes that are valid today.

    Example:
        >>> from decimal import Decimal
        >>> try:
        ...     Insured(insutype="310", psn_type="1101", balance=Decimal("-1.00"))
        ... except SettlementInputError as error:
        ...     print(str(error)[:16])
        insured.balance:
    """

    insutype: str
    psn_type: str
    balance: Decimal = Decimal("0.00")
    cvlserv: bool = False
    identities: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.balance < 0 or self.balance != self.balance.quantize(Decimal("0.01")):
            raise SettlementInputError(
                "insured.balance",
                f"{self.balance} must be a non-negative amount with at most two decimals",
            )


@dataclass(frozen=True)
class StayCounters:
    """The stay a per-stay rule settles: which stay of the calendar year it is, and what
    deductible its earlier (mid-way) settlements already took.

    Example:
        >>> from decimal import Decimal
        >>> try:
        ...     StayCounters(0, Decimal("0"))
        ... except SettlementInputError as error:
        ...     print(str(error)[:13])
        stay.ordinal:
    """

    ordinal: int
    """1 for the person's first stay of the year under this rule, 2 for the second…"""
    deductible_used: Decimal
    """The deductible the stay's settlements in force took so far."""

    def __post_init__(self) -> None:
        if self.ordinal < 1:
            raise SettlementInputError("stay.ordinal", f"{self.ordinal} must be 1 or more")
        if self.deductible_used < 0:
            raise SettlementInputError(
                "stay.deductible_used", f"{self.deductible_used} must not be negative"
            )
