"""The mock platform's settlement calculator: 就医地目录、参保地政策、就医地管理.

Plain Python over Decimal, no I/O. The engine calls it in three steps:

1. **2204** — price each uploaded fee line against the treatment place's :class:`Catalogue`
   with :func:`price_line`; :meth:`PricedLine.result_row` is the answer's ``result`` row.
2. **2206 / 2207** — :func:`settle` the priced lines under the insured place's
   :class:`InsuredPlacePolicy`, given the person (:class:`Insured`), the :class:`Visit`, this
   year's :class:`Accumulators` of the rule that applies, ``acct_used_flag`` and the
   treatment place's :class:`Profile`. The :class:`Settlement` carries every ``setlinfo``
   amount, the ``setldetail`` rows, and the ``delta`` the store adds to the accumulators
   (2206 computes and discards it; 2207 commits it, keeping :meth:`Settlement.to_record`).
3. **2208 / 2601** — :func:`reverse` a committed settlement (:meth:`Settlement.from_record`):
   the same structure negated, and a delta that restores the accumulators exactly.

:func:`identity_violations` checks the reference §5.8 amount identities of any settlement
(ours or a transcript's) under a profile.

Errors (all :class:`SettlementError`, a ``ValueError`` whose text is a complete ``err_msg``)::

    SettlementError
     ├── FeeLineError            a fee line cannot be priced
     │    └── AmountMismatchError    det_item_fee_sumamt ≠ round(pric × cnt, 2)
     ├── NoBenefitRuleError      no benefit rule for this insutype/med_type/hospital tier
     ├── SettlementInputError    a bill, person, visit or counter the calculator cannot settle
     └── ReversalError           the settlement cannot be reversed

Example:
    >>> from decimal import Decimal as D
    >>> item = CatalogueItem(med_list_codg="X1", name="阿莫西林胶囊", chrgitm_lv="02",
    ...                      med_chrgitm_type="09", selfpay_prop=D("0.05"))
    >>> catalogue = Catalogue(admdvs="530100", name="昆明市", items=[item])
    >>> priced = price_line(UnpricedLine("F1", "X1", D("4.52"), D("1"), D("4.52")), catalogue)
    >>> (priced.preselfpay_amt, priced.inscp_scp_amt)
    (Decimal('0.23'), Decimal('4.29'))
"""

from nhsa.mock.settlement._accumulators import Accumulators, FundCounter, FundKind
from nhsa.mock.settlement._catalogue import (
    Catalogue,
    CatalogueItem,
    ChargeClass,
    PricedLine,
    UnpricedLine,
    price_line,
)
from nhsa.mock.settlement._codes import HospLevel, coded, fund_pay_type_name
from nhsa.mock.settlement._errors import (
    AmountMismatchError,
    FeeLineError,
    NoBenefitRuleError,
    ReversalError,
    SettlementError,
    SettlementInputError,
)
from nhsa.mock.settlement._money import NO_PRICE_CAP, Amount
from nhsa.mock.settlement._policy import (
    Basis,
    BenefitRule,
    CrossRegion,
    DeductiblePer,
    DiseaseTerms,
    InsuredPlacePolicy,
    LevelTerms,
    PersonalAccount,
    PsnTypeAdjustment,
    RatioDeltas,
    SupplementaryFund,
    Tier,
)
from nhsa.mock.settlement._profile import (
    FUND_FIELDS,
    AmountIdentity,
    IdentityViolation,
    Profile,
    identity_violations,
)
from nhsa.mock.settlement._result import (
    HOSPITAL_FUND_PAY_TYPE,
    SETLINFO_NUMBER_FIELDS,
    SetlDetail,
    Settlement,
)
from nhsa.mock.settlement._reverse import reverse
from nhsa.mock.settlement._settle import settle
from nhsa.mock.settlement._visit import (
    Access,
    FilingKind,
    Insured,
    Locality,
    StayCounters,
    Visit,
    access_for,
    locality_of,
    pooling_area,
)

__all__ = [
    "FUND_FIELDS",
    "HOSPITAL_FUND_PAY_TYPE",
    "NO_PRICE_CAP",
    "SETLINFO_NUMBER_FIELDS",
    "Access",
    "Accumulators",
    "Amount",
    "AmountIdentity",
    "AmountMismatchError",
    "Basis",
    "BenefitRule",
    "Catalogue",
    "CatalogueItem",
    "ChargeClass",
    "CrossRegion",
    "DeductiblePer",
    "DiseaseTerms",
    "FeeLineError",
    "FilingKind",
    "FundCounter",
    "FundKind",
    "HospLevel",
    "IdentityViolation",
    "Insured",
    "InsuredPlacePolicy",
    "LevelTerms",
    "Locality",
    "NoBenefitRuleError",
    "PersonalAccount",
    "PricedLine",
    "Profile",
    "PsnTypeAdjustment",
    "RatioDeltas",
    "ReversalError",
    "SetlDetail",
    "Settlement",
    "SettlementError",
    "SettlementInputError",
    "StayCounters",
    "SupplementaryFund",
    "Tier",
    "UnpricedLine",
    "Visit",
    "access_for",
    "coded",
    "fund_pay_type_name",
    "identity_violations",
    "locality_of",
    "pooling_area",
    "price_line",
    "reverse",
    "settle",
]
