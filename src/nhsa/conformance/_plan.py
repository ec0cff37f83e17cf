"""From a scenario to a concrete plan: a fresh institution, keys, patients, fee lines.

Each scenario of each run gets data of its own (Touchstone's unique data per tester): a fresh
institution code (the template institution's ``H`` + six area digits, then five random
digits), a fresh SM2 key pair and gateway token, and run-unique ``ipt_otp_no`` and
``chrg_bchno`` values — so parallel runs against one mock never share a tenant, a visit or a
batch. Patients come from the fixture set: by ``psn_no``, or the first person (by psn_no)
matching a selector (insured area, locality, filing situation, insutype); two aliases of one
scenario never resolve to the same person.

Example:
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> ids = UniqueValues("ab12cd34")
    >>> ids.next("OTP"), ids.next("OTP")
    ('OTPab12cd34001', 'OTPab12cd34002')
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, cast

from nhsa.conformance._driver import (
    CertType,
    DriverCertificate,
    FeeItem,
    HisConfiguration,
    ModeConfig,
    SigningConfig,
)
from nhsa.conformance._errors import ScenarioError
from nhsa.conformance._mock_handle import AREA_SCOPED_FAULTS, Downtime, InstitutionRegistration
from nhsa.conformance._scenario import DowntimePlan, FaultPlan, FeeSpec, PatientSpec, Scenario
from nhsa.mock.faults import FaultSpec
from nhsa.mock.fixtures import DesignatedInstitution, FixtureSet, InsuranceRecord, InsuredPerson
from nhsa.mock.settlement import Catalogue, FilingKind, locality_of
from nhsa.signing import Sm2PrivateKey
from nhsa.spec import Dialect
from nhsa.spec import dialect as spec_dialect

__all__ = [
    "PlannedPatient",
    "ScenarioPlan",
    "UniqueValues",
    "certificate_of",
    "fresh_institution_code",
    "plan_scenario",
    "resolve_downtime",
    "resolve_fault",
]

EMERGENCY_MED_TYPE = "13"
"""med_type 急诊, used for emergency visits unless the scenario names another."""
OUTPATIENT_MED_TYPE = "11"
"""med_type 普通门诊."""


class UniqueValues:
    """Run-unique identifiers with a prefix: ``<prefix><token><counter>``.

    Example:
        >>> UniqueValues("t0").next("B")
        'Bt0001'
    """

    def __init__(self, token: str) -> None:
        """``token`` is unique per run (the runner draws it at random)."""
        self.token = token
        self._counter = 0

    def next(self, prefix: str) -> str:
        """The next value; at most 30 characters for prefixes of up to 10."""
        self._counter += 1
        return f"{prefix}{self.token}{self._counter:03d}"


def fresh_institution_code(template: str) -> str:
    """A random institution code in the template's area: ``H`` + 6 digits kept + 5 random.

    Example:
        >>> code = fresh_institution_code("H53010100001")
        >>> code[:7], len(code)
        ('H530101', 12)
    """
    return template[:7] + f"{secrets.randbelow(100_000):05d}"


@dataclass(frozen=True)
class PlannedPatient:
    """A scenario patient resolved to a fixture person, certificate and visit type.

    Example::

        plan.patients["patient"].certificate.cert_type  # '02'
    """

    alias: str
    person: InsuredPerson = field(repr=False)
    insutype: str
    insured_area: str
    locality: str
    med_type: str
    certificate: DriverCertificate
    emergency: bool

    @property
    def psn_no(self) -> str:
        """The fixture person's psn_no."""
        return self.person.psn_no


@dataclass(frozen=True)
class ScenarioPlan:
    """Everything the runner needs to run one scenario against one mock and one driver.

    Example::

        plan.tenant, plan.configuration.mode.kind, plan.patients["patient"].psn_no
    """

    scenario: Scenario
    registration: InstitutionRegistration
    configuration: HisConfiguration
    patients: Mapping[str, PlannedPatient]
    faults: tuple[FaultSpec, ...]
    downtimes: tuple[Downtime, ...]
    unique: UniqueValues = field(repr=False)
    catalogue_area: str = ""
    fixtures: FixtureSet | None = field(default=None, repr=False)

    @property
    def tenant(self) -> str:
        """The tenant on the mock: the fresh institution code."""
        return self.registration.fixmedins_code

    def fee_items(self, fees: tuple[FeeSpec, ...]) -> tuple[FeeItem, ...]:
        """Scenario fee lines as driver fee items (hospital code defaulted, the name the
        catalogue gives the item)."""
        catalogue = self.fixtures.catalogue_for(self.catalogue_area) if self.fixtures else None
        return tuple(
            FeeItem(
                code=f.code,
                hospital_code=f.hospital_code or f"YY-{f.code}"[:150],
                qty=f.qty,
                price=f.price,
                name=_item_name(catalogue, f.code),
            )
            for f in fees
        )

    def resolve_fault(self, plan: FaultPlan) -> FaultSpec:
        """A scenario fault with its patient alias turned into psn_no / insured area."""
        return resolve_fault(plan, self.patients)

    def resolve_downtime(self, plan: DowntimePlan) -> Downtime:
        """A scenario downtime with its patient alias turned into their insured area."""
        return resolve_downtime(plan, self.patients)


def resolve_fault(plan: FaultPlan, patients: Mapping[str, PlannedPatient]) -> FaultSpec:
    """``plan``'s fault with its patient alias turned into that patient's psn_no or area.

    Example::

        resolve_fault(FaultPlan(FaultSpec(kind="reset"), "visitor", 9), plan.patients).psn_no
    """
    spec = plan.spec
    if plan.patient is None:
        return spec
    patient = patients[plan.patient]
    if spec.kind in AREA_SCOPED_FAULTS:
        return spec.model_copy(update={"area": spec.area or patient.insured_area})
    return spec.model_copy(update={"psn_no": patient.psn_no})


def resolve_downtime(plan: DowntimePlan, patients: Mapping[str, PlannedPatient]) -> Downtime:
    """``plan``'s downtime window, for its area or its patient's insured area.

    Example::

        resolve_downtime(DowntimePlan(None, "visitor", 30, 9), plan.patients).area  # '440300'
    """
    if plan.patient is not None:
        return Downtime(patients[plan.patient].insured_area, plan.minutes)
    return Downtime(cast(str, plan.area), plan.minutes)  # the reader requires one of the two


def plan_scenario(
    scenario: Scenario,
    fixtures: FixtureSet,
    *,
    institution_code: str,
    platform_url: str,
    platform_key_pem: str | None,
    run_id: str,
    token: str,
    today: date,
    dialect: Dialect | None = None,
) -> ScenarioPlan:
    """Resolve ``scenario`` into a plan for institution ``institution_code``.

    Raises :class:`~nhsa.conformance.ScenarioError` (file and line) when the template
    institution, a patient or a fee code does not exist in ``fixtures``.

    Example::

        plan = plan_scenario(scenario, bundled_fixtures(), institution_code="H53010112345",
                             platform_url=url, platform_key_pem=None, run_id="r1",
                             token="ab12", today=date(2026, 11, 23))
    """
    given = scenario.given
    template = fixtures.institution(given.institution)
    if template is None:
        raise ScenarioError(
            scenario.path, given.line, f"institution {given.institution} is not in the fixtures"
        )
    catalogue = fixtures.catalogue_for(template.mdtrtarea_admvs)
    if catalogue is None:
        raise ScenarioError(
            scenario.path,
            given.line,
            f"no catalogue for the area {template.mdtrtarea_admvs} of {given.institution}",
        )
    for fee in _all_fees(scenario):
        if catalogue.item(fee.code) is None:
            raise ScenarioError(
                scenario.path,
                fee.line,
                f"fee code {fee.code} is not in the catalogue of {catalogue.admdvs}",
            )
    _check_partial_refunds(scenario)
    patients = _plan_patients(scenario, fixtures, template, today)
    spoken = dialect or spec_dialect()
    registration, signing = _credentials(
        template, institution_code, _profile_in(given.profile, spoken), platform_key_pem, spoken
    )
    configuration = HisConfiguration(
        fixmedins_code=institution_code,
        fixmedins_name=registration.fixmedins_name,
        mdtrtarea_admvs=template.mdtrtarea_admvs,
        platform_url=platform_url,
        mode=_mode(given.mode, institution_code),
        signing=signing,
        run_id=run_id,
        on_unknown=cast(Literal["reverse", "hold"], given.on_unknown),
        dialect=spoken.name,
    )
    return ScenarioPlan(
        scenario=scenario,
        registration=registration,
        configuration=configuration,
        patients=patients,
        faults=tuple(resolve_fault(f, patients) for f in given.faults),
        downtimes=tuple(resolve_downtime(d, patients) for d in given.downtimes),
        unique=UniqueValues(token),
        catalogue_area=catalogue.admdvs,
        fixtures=fixtures,
    )


def _all_fees(scenario: Scenario) -> list[FeeSpec]:
    fees = list(scenario.given.fees)
    for step in scenario.steps:
        fees.extend(step.params.get("fees", ()))
    return fees


def _check_partial_refunds(scenario: Scenario) -> None:
    """Each partial refund takes back only codes and quantities its settlement charged."""
    for step in scenario.steps:
        if step.action != "partial_refund":
            continue
        charged = _settled_quantities(scenario, step.params["settlement"].step)
        for line in step.params["lines"]:
            held = charged.get(line.code, Decimal(0))
            if line.qty > held:
                raise ScenarioError(
                    scenario.path,
                    line.line,
                    f"{step.name}: takes back {line.qty} of {line.code}, but the settlement of "
                    f"step {step.params['settlement'].step!r} holds {held}",
                )


def _settled_quantities(scenario: Scenario, step_name: str) -> dict[str, Decimal]:
    step = scenario.step(step_name)
    if step.action == "charge":
        held: dict[str, Decimal] = {}
        for fee in step.params.get("fees") or scenario.given.fees:
            held[fee.code] = held.get(fee.code, Decimal(0)) + fee.qty
        return held
    held = _settled_quantities(scenario, step.params["settlement"].step)
    for line in step.params["lines"]:
        held[line.code] = held.get(line.code, Decimal(0)) - line.qty
    return held


def _profile_in(profile: str, spoken: Dialect) -> str:
    """The scenario's signing profile on a platform of ``spoken``: a dialect whose platform
    has no gateway (Sichuan's) has no ``tif`` to demand.

    Example:
        >>> _profile_in("tif+sm2", spec_dialect("sichuan")), _profile_in("tif", spec_dialect())
        ('sm2', 'tif')
    """
    if spoken.gateway.family != "none":
        return profile
    kept = [part for part in profile.split("+") if part.strip() != "tif"]
    return "+".join(kept) or "none"


def _item_name(catalogue: Catalogue | None, code: str) -> str | None:
    item = catalogue.item(code) if catalogue is not None else None
    return item.name if item is not None else None


def _credentials(
    template: DesignatedInstitution,
    code: str,
    profile: str,
    platform_key_pem: str | None,
    spoken: Dialect,
) -> tuple[InstitutionRegistration, SigningConfig]:
    uses_tif = "tif" in profile
    uses_sm2 = "sm2" in profile
    bearer = uses_tif and spoken.gateway.family == "bearer"
    key = Sm2PrivateKey.generate() if uses_sm2 else None
    paasid = f"paas-{code.lower()}" if uses_tif else None
    token = secrets.token_urlsafe(24) if uses_tif else None
    name = f"{template.fixmedins_name}（测试{code[-5:]}）"
    registration = InstitutionRegistration(
        fixmedins_code=code,
        fixmedins_name=name,
        mdtrtarea_admvs=template.mdtrtarea_admvs,
        level=template.level,
        networked=tuple(sorted(s.value for s in template.networked)),
        profile=profile,
        paasid=paasid,
        token=token,
        public_key_pem=key.public_key.to_pem().decode() if key else None,
        key_id=key.key_id if key else None,
        dialect=spoken.name,
    )
    signing = SigningConfig(
        profile=profile,
        paasid=paasid,
        token=token,
        private_key_pem=key.to_pem().decode() if key else None,
        key_id=key.key_id if key else None,
        platform_public_key_pem=platform_key_pem if uses_sm2 else None,
        gateway_user=code if bearer else None,
        gateway_password=secrets.token_urlsafe(12) if bearer else None,
    )
    return registration, signing


def _mode(kind: str, code: str) -> ModeConfig:
    if kind == "kiosk":
        return ModeConfig(
            "kiosk",
            opter="KIOSK01",
            opter_name="自助机01",
            dev_no=f"DEV-{code}-01",
            dev_safe_info="synthetic-device-attestation-01",
        )
    return ModeConfig("window", opter="W001", opter_name="收费窗口01")


def _plan_patients(
    scenario: Scenario, fixtures: FixtureSet, hospital: DesignatedInstitution, today: date
) -> dict[str, PlannedPatient]:
    finder = _PatientFinder(scenario, fixtures, hospital, today)
    chosen: dict[str, PlannedPatient] = {}
    taken: set[str] = set()
    for alias, spec in scenario.given.patients.items():
        person, record = finder.find(spec, taken)
        taken.add(person.psn_no)
        emergency = spec.filing == "emergency"
        cert_type = cast(CertType, spec.certificate or scenario.given.certificate)
        chosen[alias] = PlannedPatient(
            alias=alias,
            person=person,
            insutype=record.insutype,
            insured_area=record.insuplc_admdvs,
            locality=locality_of(record.insuplc_admdvs, hospital.mdtrtarea_admvs).value,
            med_type=spec.med_type or (EMERGENCY_MED_TYPE if emergency else OUTPATIENT_MED_TYPE),
            certificate=certificate_of(person, cert_type),
            emergency=emergency,
        )
    return chosen


@dataclass(frozen=True)
class _PatientFinder:
    """Resolves a patient spec against the fixtures for a visit at ``hospital`` on ``today``."""

    scenario: Scenario
    fixtures: FixtureSet
    hospital: DesignatedInstitution
    today: date

    def error(self, spec: PatientSpec, problem: str) -> ScenarioError:
        return ScenarioError(self.scenario.path, spec.line, f"patient {spec.alias}: {problem}")

    def find(self, spec: PatientSpec, taken: set[str]) -> tuple[InsuredPerson, InsuranceRecord]:
        if spec.psn_no is not None:
            person = self.fixtures.person(spec.psn_no)
            if person is None:
                raise self.error(spec, f"no fixture person {spec.psn_no}")
            record = person.record(spec.insutype) if spec.insutype else person.insurance[0]
            if record is None:
                raise self.error(
                    spec, f"{spec.psn_no} has no insurance of insutype {spec.insutype}"
                )
            return person, record
        for person in sorted(self.fixtures.persons, key=lambda p: p.psn_no):
            if person.psn_no in taken:
                continue
            for record in person.insurance:
                if self.matches(person, record, spec):
                    return person, record
        wanted = spec.describe().removeprefix("any patient with ")
        raise self.error(
            spec,
            f"no fixture person (not already used in this scenario) has {wanted} for a visit"
            f" at {self.hospital.mdtrtarea_admvs}",
        )

    def matches(self, person: InsuredPerson, record: InsuranceRecord, spec: PatientSpec) -> bool:
        locality = locality_of(record.insuplc_admdvs, self.hospital.mdtrtarea_admvs).value
        return all(
            (
                spec.insutype in (None, record.insutype),
                spec.insured_area is None or record.insuplc_admdvs.startswith(spec.insured_area),
                spec.locality in (None, locality),
                self.filing_matches(person, spec.filing, locality),
            )
        )

    def filing_matches(self, person: InsuredPerson, wanted: str | None, locality: str) -> bool:
        if wanted is None:
            return True
        filing = person.filing
        area = self.hospital.mdtrtarea_admvs
        covering = (
            filing.kind if filing is not None and filing.covers(area, on=self.today) else None
        )
        if wanted == "filed":
            return covering is not None and covering is not FilingKind.REFERRAL
        if wanted == "referral":
            return covering is FilingKind.REFERRAL
        # unfiled and emergency: a visit away from home with no filing covering this place
        return covering is None and locality != "local"


def certificate_of(person: InsuredPerson, cert_type: CertType) -> DriverCertificate:
    """The certificate of ``cert_type`` a fixture person presents (number, card_sn).

    Example:
        >>> from nhsa.mock.fixtures import bundled_fixtures
        >>> certificate_of(bundled_fixtures().persons[0], "03").card_sn is not None
        True
    """
    if cert_type == "01":
        return DriverCertificate("01", person.certificates.ec_token)
    if cert_type == "03":
        card = person.certificates.social_security_card
        return DriverCertificate("03", card.card_no, card_sn=card.card_sn)
    return DriverCertificate("02", person.certno)
