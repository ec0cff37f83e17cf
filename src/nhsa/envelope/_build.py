"""Building request envelopes from typed inputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from nhsa.envelope._clock import CHINA_TIME
from nhsa.envelope._codec import dumps
from nhsa.models import InputModel, RequestEnvelope, models_for
from nhsa.models._types import DATETIME_FORMAT

OpterType = Literal["1", "2", "3"]


@dataclass(frozen=True)
class Sender:
    """Who sends: the designated institution's fields of every envelope, the receiving
    system and interface version it addresses (``recer_sys_code``, ``infver``), and further
    envelope members it sends every time (``members``: ``fixmedins_soft_fcty``,
    ``recer_admdvs``).

    Example:
        >>> from datetime import datetime
        >>> from nhsa.models import Input9002, Input9002SignOut
        >>> sign_out = Input9002(signOut=Input9002SignOut(sign_no="S1", opter_no="C0001"))
        >>> envelope = build_request(
        ...     "9002", sign_out, sender=Sender("H53010100001", "示例市第一人民医院", "530100"),
        ...     operator=Operator("1", "C0001", "收费员甲"),
        ...     msgid="H53010100001202611231800000001", inf_time=datetime(2026, 11, 23, 18),
        ... )
        >>> (envelope.fixmedins_code, envelope.mdtrtarea_admvs, envelope.recer_sys_code)
        ('H53010100001', '530100', 'YBXT')
    """

    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    recer_sys_code: str = "YBXT"
    infver: str = "V1.0"
    members: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Operator:
    """Who operates the call: a window cashier (opter_type 1) or a kiosk (2), or mobile (3).

    Example:
        A kiosk's terminal fields ride on every envelope it sends:

        >>> from datetime import datetime
        >>> from nhsa.models import Input9002, Input9002SignOut
        >>> kiosk = Operator("2", "K01", "自助机1号", dev_no="K01", dev_safe_info="SAFE-K01")
        >>> envelope = build_request(
        ...     "9002", Input9002(signOut=Input9002SignOut(sign_no="S1", opter_no="K01")),
        ...     sender=Sender("H53010100001", "示例市第一人民医院", "530100"), operator=kiosk,
        ...     msgid="H53010100001202611231800000001", inf_time=datetime(2026, 11, 23, 18),
        ... )
        >>> (envelope.opter_type, envelope.opter, envelope.dev_no, envelope.dev_safe_info)
        ('2', 'K01', 'K01', 'SAFE-K01')
    """

    opter_type: OpterType
    opter: str
    opter_name: str
    dev_no: str | None = None
    dev_safe_info: str | None = None


class MissingInsuredAreaError(ValueError):
    """The input carries psn_no but no insuplc_admdvs was given (the spec makes it required)."""


def carries_psn_no(input_nodes: Mapping[str, Any]) -> bool:
    """Whether any input node (object or array of objects) carries ``psn_no``.

    Example:
        >>> carries_psn_no({"feedetail": [{"psn_no": "P1"}]}), carries_psn_no({"signIn": {}})
        (True, False)
    """
    for node in input_nodes.values():
        if isinstance(node, Mapping) and "psn_no" in node:
            return True
        if isinstance(node, list) and any(isinstance(i, Mapping) and "psn_no" in i for i in node):
            return True
    return False


def build_request(
    infno: str,
    input_model: InputModel,
    *,
    sender: Sender,
    operator: Operator,
    msgid: str,
    inf_time: datetime,
    sign_no: str | None = None,
    insuplc_admdvs: str | None = None,
    signtype: str | None = None,
) -> RequestEnvelope:
    """Assemble a request envelope; the input model must be the one the contract gives ``infno``.

    Example:
        >>> from datetime import datetime
        >>> from nhsa.models import Input9001, Input9001SignIn
        >>> sign_in = Input9001SignIn(opter_no="C0001", mac="00-16-3E-00-00-01", ip="10.0.0.8")
        >>> envelope = build_request(
        ...     "9001",
        ...     Input9001(signIn=sign_in),
        ...     sender=Sender("H53010100001", "示例市第一人民医院", "530100"),
        ...     operator=Operator("1", "C0001", "收费员甲"),
        ...     msgid="H53010100001202611231015300000",
        ...     inf_time=datetime(2026, 11, 23, 10, 15, 30),
        ... )
        >>> envelope.insuplc_admdvs, envelope.input["signIn"]["opter_no"]
        ('', 'C0001')
    """
    expected = models_for(infno).input
    if not isinstance(input_model, expected):
        raise TypeError(f"{infno} takes {expected.__name__}, not {type(input_model).__name__}")
    nodes = input_model.to_wire()
    if carries_psn_no(nodes) and not insuplc_admdvs:
        raise MissingInsuredAreaError(
            f"{infno}: insuplc_admdvs is required because the input carries psn_no; "
            "take it from 1101 insuinfo[].insuplc_admdvs"
        )
    return RequestEnvelope(
        infno=infno,
        msgid=msgid,
        mdtrtarea_admvs=sender.mdtrtarea_admvs,
        insuplc_admdvs=insuplc_admdvs or "",
        recer_sys_code=sender.recer_sys_code,
        dev_no=operator.dev_no,
        dev_safe_info=operator.dev_safe_info,
        cainfo="",
        signtype=signtype or "",
        infver=sender.infver,
        opter_type=operator.opter_type,
        opter=operator.opter,
        opter_name=operator.opter_name,
        inf_time=_china_time_text(inf_time),
        fixmedins_code=sender.fixmedins_code,
        fixmedins_name=sender.fixmedins_name,
        sign_no=sign_no or "",
        input=nodes,
        **dict(sender.members),
    )


def encode_request(envelope: RequestEnvelope) -> bytes:
    """The exact request body to send (and to sign): compact JSON, amounts as exact numbers."""
    return dumps(envelope.model_dump(by_alias=True, exclude_none=True))


def _china_time_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(CHINA_TIME)
    return value.strftime(DATETIME_FORMAT)
