"""HTTP Basic authentication as the switch does it.

With credentials configured, the pair must be one of them; with none configured, any well-formed
Basic credentials pass. A missing or malformed ``Authorization`` header is always refused (401).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    user: str | None
    reason: str = ""


def basic_user(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic ...`` header, or None when malformed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        return None
    return user, password


def check(header: str | None, allowed: frozenset[tuple[str, str]]) -> AuthResult:
    pair = basic_user(header)
    if pair is None:
        reason = "missing" if not header else "malformed"
        return AuthResult(False, None, f"Basic credentials {reason}")
    user, password = pair
    if not allowed:
        return AuthResult(True, user)
    for known_user, known_password in allowed:
        if hmac.compare_digest(user.encode(), known_user.encode()) and hmac.compare_digest(
                password.encode(), known_password.encode()):
            return AuthResult(True, user)
    return AuthResult(False, user, "unknown user or wrong password")
