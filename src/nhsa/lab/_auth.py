"""Who is at the console: a lab signed in with a token, held in a session cookie.

The console sits behind the mock's admin token. A lab signs in with its name and either the
admin token itself (the server's operator) or that lab's **lab token** — an HMAC of the lab's
name under the admin token (:func:`lab_token`, printed by ``nhsa lab token LAB``), which the
operator hands to one lab: it opens that lab's console and nothing else, and nobody can derive
another lab's from it. A session is bound to the lab it signed in as.

Sessions live in this process (a restart signs everyone out); the cookie carries only a random
id, ``HttpOnly``, ``SameSite=Strict``, ``Path=/console``. Every state-changing form carries the
session's CSRF token, checked in constant time; the sign-in form, before any session exists,
carries one that must match a cookie of its own (double submit).

Example:
    >>> token = lab_token("an-admin-token-of-24-chars", "lab-km")
    >>> accepts("an-admin-token-of-24-chars", "lab-km", token)
    True
    >>> accepts("an-admin-token-of-24-chars", "lab-gz", token)
    False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

__all__ = [
    "LAB_NAME",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "Session",
    "Sessions",
    "accepts",
    "lab_name_problem",
    "lab_token",
    "same_secret",
]

SESSION_COOKIE: Final = "nhsa_console"
LOGIN_COOKIE: Final = "nhsa_console_login"
SESSION_SECONDS: Final = 8 * 3600
MAX_SESSIONS: Final = 1000
LAB_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_CONTEXT: Final = b"nhsa-lab-console/1:"


def lab_token(admin_token: str, lab: str) -> str:
    """The token that signs ``lab`` in (and no other lab).

    Example:
        >>> len(lab_token("an-admin-token-of-24-chars", "lab-km"))
        32
    """
    digest = hmac.new(admin_token.encode(), _CONTEXT + lab.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets.

    Example:
        >>> same_secret("abc", "abc"), same_secret("abc", "abd")
        (True, False)
    """
    return hmac.compare_digest(given.encode(), expected.encode())


def lab_name_problem(lab: str) -> str | None:
    """Why ``lab`` cannot name a lab, or ``None``.

    Example:
        >>> lab_name_problem("lab km")
        'use 1-40 letters, digits, dot, dash or underscore, starting with a letter or digit'
    """
    if LAB_NAME.fullmatch(lab):
        return None
    return "use 1-40 letters, digits, dot, dash or underscore, starting with a letter or digit"


def accepts(admin_token: str, lab: str, token: str) -> bool:
    """Whether ``token`` signs ``lab`` in: the admin token, or the lab's own token."""
    if lab_name_problem(lab) is not None:
        return False
    return same_secret(token, admin_token) | same_secret(token, lab_token(admin_token, lab))


@dataclass(frozen=True)
class Session:
    """A signed-in lab: its session id (the cookie), CSRF token and expiry (monotonic)."""

    id: str
    lab: str
    csrf: str
    expires: float


class Sessions:
    """The console's sessions: bounded in number, each ending after :data:`SESSION_SECONDS`.

    Example:
        >>> sessions = Sessions()
        >>> session = sessions.open("lab-km")
        >>> sessions.get(session.id).lab, sessions.get("forged")
        ('lab-km', None)
    """

    def __init__(self, *, lifetime: float = SESSION_SECONDS, limit: int = MAX_SESSIONS) -> None:
        """No session yet."""
        self._lifetime = lifetime
        self._limit = limit
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Session] = OrderedDict()

    def open(self, lab: str) -> Session:
        """A new session for ``lab`` (the oldest is dropped when there are too many)."""
        session = Session(
            secrets.token_urlsafe(32),
            lab,
            secrets.token_urlsafe(24),
            time.monotonic() + self._lifetime,
        )
        with self._lock:
            self._open[session.id] = session
            while len(self._open) > self._limit:
                self._open.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or ``None``."""
        if not session_id:
            return None
        with self._lock:
            found = self._open.get(session_id)
            if found is not None and found.expires < time.monotonic():
                del self._open[session_id]
                return None
        return found

    def close(self, session_id: str) -> None:
        """Sign the session out."""
        with self._lock:
            self._open.pop(session_id, None)
