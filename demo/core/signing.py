"""HMAC-SHA256 signatures of webhook bodies: the git server's hook signs, the agent checks."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Tellit-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid(secret: str, body: bytes, claimed: str) -> bool:
    """Whether `claimed` signs `body` with `secret` (compared in constant time)."""
    return bool(secret) and hmac.compare_digest(claimed, signature(secret, body))
