"""``open_mock`` against a running server refuses a missing or wrong admin token at once, for
library users as for the CLI (issue 15: otherwise every scenario ends in the same ``error``)."""

from __future__ import annotations

import pytest

from nhsa.conformance import MockError
from nhsa.conformance._setup import open_mock
from nhsa.mock import MockPlatform


@pytest.mark.parametrize(
    ("token", "said"),
    [(None, "pass its token with --admin-token"), ("not-the-servers-token", "(HTTP 401)")],
)
def test_a_token_the_mock_will_not_take_is_refused_on_opening(token: str | None, said: str) -> None:
    with MockPlatform() as platform, platform.serve() as url:
        with pytest.raises(MockError) as refused, open_mock(url, admin_token=token, serve=False):
            pass
        assert said in str(refused.value)
        assert url in str(refused.value)
        with open_mock(url, admin_token=platform.admin_token, serve=False) as mock:
            assert mock.describe() == url
