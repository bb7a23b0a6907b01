"""GitHub's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``
with the webhook's secret, compared in constant time (pure)."""

from __future__ import annotations

import hashlib
import hmac

from dutydesk.errors import DomainError, Unauthorized

PREFIX = "sha256="


class NotConfigured(DomainError):
    """The server lacks what a request needs (a secret in its environment)."""

    status, slug, title = 503, "not-configured", "Not configured on this server"


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, header: str | None, body: bytes) -> None:
    """Refuse (401) a delivery whose signature is missing or does not match the body."""
    if not header:
        raise Unauthorized(
            "X-Hub-Signature-256 is missing: set the webhook's secret on GitHub to the value "
            "of this desk's secret variable"
        )
    if not header.startswith(PREFIX) or not hmac.compare_digest(
        header.strip().encode(), sign(secret, body).encode()
    ):
        raise Unauthorized(
            "X-Hub-Signature-256 does not match the body: the webhook's secret on GitHub "
            "differs from this server's, or the body was changed on the way"
        )
