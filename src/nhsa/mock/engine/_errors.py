"""Business refusals: what is wrong and what to do, in Chinese first and English after.

Handlers raise :class:`BusinessError`; the engine turns it into an ``infcode -1`` answer after
rolling back whatever the handler had written. ``kind`` is the id of the matching entry of
``interface_specs/v1/errors.json`` (the catalogue a HIS developer reads), and the Chinese text
starts with that entry's wording.

Example:
    >>> error = BusinessError("illegal_state", "当前状态不允许此操作：已结算，请先撤销结算",
    ...                       "visit is settled: reverse the settlement first")
    >>> error.err_msg
    '当前状态不允许此操作：已结算，请先撤销结算 / visit is settled: reverse the settlement first'
    >>> error.kind
    'business.illegal_state'
"""

from __future__ import annotations


class BusinessError(Exception):
    """A definite refusal of a request; nothing it asked for happened.

    Args:
        kind: the catalogue entry; without a layer (``illegal_state``) it is a business one
            (``business.illegal_state``), with one (``envelope.sign_in_missing``) it is kept.
        zh: the Chinese message (catalogue wording, then the specifics and what to do).
        en: the same in English.
    """

    def __init__(self, kind: str, zh: str, en: str) -> None:
        self.kind = kind if "." in kind else f"business.{kind}"
        self.zh = zh
        self.en = en
        super().__init__(self.err_msg)

    @property
    def err_msg(self) -> str:
        """The complete ``err_msg``: Chinese, then English."""
        return f"{self.zh} / {self.en}"


class UnknownTenantError(LookupError):
    """A call for an institution the engine does not serve.

    The server refuses such a sender at its gateway check (非法用户, HTTP 401) before it makes
    a call, so this is the bug of a caller that skipped that check, not an answer.

    Example:
        >>> str(UnknownTenantError("H99999999999"))
        'institution H99999999999 is not served here: the gateway admits registered ones only'
    """

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        super().__init__(
            f"institution {tenant} is not served here: the gateway admits registered ones only"
        )
