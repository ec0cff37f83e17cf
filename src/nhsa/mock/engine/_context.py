"""Everything one call's handler may use: the transaction, the call, the treatment place and
its fixtures, and the lookups every handler repeats (person, insurance row, ids).

Example::

    def handle(ctx: Context, node: Input2201) -> Answer:
        person = ctx.person(node.data.psn_no)
        record = ctx.insurance(person, node.data.insutype)
        mdtrt_id = ctx.new_id("mdtrt_id")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._types import Call, EngineOptions
from nhsa.mock.fixtures import DesignatedInstitution, FixtureSet, InsuranceRecord, InsuredPerson
from nhsa.mock.settlement import Catalogue, Profile
from nhsa.mock.store import UnitOfWork

_ID_PREFIXES = {
    "mdtrt_id": "3",
    "setl_id": "4",
    "file_qury_no": "5",
    "sign_no": "6",
    "line_id": "7",
    "window_id": "8",
    "trt_dcla_detl_sn": "9",
}
"""Opaque platform ids: a digit naming the kind, then the global sequence (12 digits, ≤ 30)."""


def format_id(kind: str, value: int) -> str:
    """An opaque id of ``kind`` from a global sequence value.

    Example:
        >>> format_id("setl_id", 42)
        '4000000000042'
    """
    return f"{_ID_PREFIXES[kind]}{value:012d}"


@dataclass(frozen=True)
class Context:
    """One call's view of the platform (built by the engine, passed to a handler)."""

    tx: UnitOfWork
    call: Call
    institution: DesignatedInstitution
    fixtures: FixtureSet
    options: EngineOptions

    @property
    def tenant(self) -> str:
        """The institution code every row of this call is keyed by."""
        return self.call.tenant

    @property
    def now(self) -> datetime:
        """The business time of this call: when the platform received it (China time)."""
        return self.call.received_at

    @property
    def today(self) -> date:
        """The calendar day of this call in China."""
        return self.call.received_at.date()

    def envelope_text(self, name: str) -> str | None:
        """A string field of the envelope, ``None`` when absent or empty."""
        value = self.call.envelope.get(name)
        return value if isinstance(value, str) and value else None

    def new_id(self, kind: str) -> str:
        """A new opaque id (``mdtrt_id``, ``setl_id``, ``file_qury_no``, ``sign_no``…)."""
        return format_id(kind, self.tx.next_id())

    def person(self, psn_no: str) -> InsuredPerson:
        """The insured person with this ``psn_no``, or a refusal naming it."""
        person = self.fixtures.person(psn_no)
        if person is None:
            raise BusinessError(
                "person_not_found",
                f"未查询到人员信息：psn_no={psn_no}；请用【1101】人员信息获取返回的人员编号",
                f"no insured person with psn_no {psn_no}: use the psn_no that 1101 returned",
            )
        return person

    def held(self, person: InsuredPerson, insutype: str) -> InsuranceRecord:
        """The person's insurance row of ``insutype``; refused if the person has none."""
        record = person.record(insutype)
        if record is None:
            held = ", ".join(r.insutype for r in person.insurance)
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：人员 {person.psn_no} 未参加险种 insutype={insutype}"
                f"（已参保险种：{held}）；请按【1101】insuinfo 选择险种",
                f"person {person.psn_no} holds no insurance of insutype {insutype} "
                f"(holds {held}): pick an insutype from the 1101 insuinfo rows",
            )
        return record

    def insurance(self, person: InsuredPerson, insutype: str) -> InsuranceRecord:
        """The person's insurance row of ``insutype``; refused if absent or not in force."""
        record = self.held(person, insutype)
        if record.psn_insu_stas != "1":
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：人员 {person.psn_no} 险种 {insutype} 参保状态为 "
                f"{record.psn_insu_stas}（非正常参保），不能享受待遇；请患者到参保地核实参保状态",
                f"person {person.psn_no} is not insured under {insutype} "
                f"(psn_insu_stas {record.psn_insu_stas}, not 1 正常参保): "
                "the patient must check the insurance status with the insured place",
            )
        return record

    def check_insured_area(self, record: InsuranceRecord) -> None:
        """The envelope's ``insuplc_admdvs`` must be the person's insured area for the insutype.

        The classic integration bug is a HIS sending its own area (``mdtrtarea_admvs``).
        """
        sent = self.envelope_text("insuplc_admdvs")
        if sent == record.insuplc_admdvs:
            return
        own = " (the hospital's own area)" if sent == self.institution.mdtrtarea_admvs else ""
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：insuplc_admdvs={sent} 与参保地不符，应为 {record.insuplc_admdvs}"
            f"（【1101】insuinfo 中险种 {record.insutype} 的 insuplc_admdvs），"
            "不是本院就医地 mdtrtarea_admvs",
            f"insuplc_admdvs is {sent}{own}, but the person's insured area for insutype "
            f"{record.insutype} is {record.insuplc_admdvs}: send the insuplc_admdvs of the "
            "chosen 1101 insuinfo row, not mdtrtarea_admvs",
        )

    def catalogue(self) -> Catalogue:
        """The treatment place's catalogue (就医地目录)."""
        catalogue = self.fixtures.catalogue_for(self.institution.mdtrtarea_admvs)
        if catalogue is None:
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：就医地 {self.institution.mdtrtarea_admvs} 无医保目录；"
                "请平台管理员加载该地区目录",
                f"the treatment area {self.institution.mdtrtarea_admvs} has no catalogue: "
                "load one into the mock's fixtures",
            )
        return catalogue

    def profile(self) -> Profile:
        """The province profile of the treatment place (field semantics)."""
        return self.fixtures.profile_for(self.institution.mdtrtarea_admvs)
