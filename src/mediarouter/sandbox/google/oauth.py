"""Google's OAuth2 token endpoint for service accounts, as the Vertex emulator's `/token`.

A client POSTs `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`; the JWT
must be RS256, signed by a key the emulator knows (the sandbox service account), issued by that
account, addressed to a token endpoint (`aud` = this URL or Google's own, which google-auth always
uses), at most an hour long and current. The answer is a `ya29.sandbox-...` bearer token that the
emulator's model endpoints then accept until it expires. Refusals use OAuth2's own error shape
(`{"error": "invalid_grant", "error_description": ...}`), not `google.rpc.Status`.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable
from functools import cache

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.responses import Response

from mediarouter.providers.google.sandbox_account import SANDBOX_CLIENT_EMAIL, SANDBOX_PRIVATE_KEY

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
TOKEN_LIFETIME_S = 3599
MAX_ASSERTION_LIFETIME_S = 3600
CLOCK_SKEW_S = 300
BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        body = orjson.dumps({"error": self.error, "error_description": self.description})
        return Response(body, status_code=self.status, media_type="application/json; charset=utf-8")


@cache
def trusted_keys() -> dict[str, rsa.RSAPublicKey]:
    """client_email -> public key of every service account the sandbox accepts."""
    private = serialization.load_pem_private_key(SANDBOX_PRIVATE_KEY.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    return {SANDBOX_CLIENT_EMAIL: private.public_key()}


def verify_assertion(assertion: str, token_url: str, now: float) -> str:
    """The issuing account's email when the JWT is valid; OAuthError (invalid_grant) otherwise."""
    pieces = assertion.split(".")
    if len(pieces) != 3:
        raise OAuthError("invalid_grant", "Invalid JWT: the assertion is not a JSON Web Token.")
    header, claims = _json_segment(pieces[0]), _json_segment(pieces[1])
    if header.get("alg") != "RS256":
        raise OAuthError(
            "invalid_grant", f"Invalid JWT: unsupported algorithm {header.get('alg')!r}; use RS256."
        )
    issuer = claims.get("iss")
    key = trusted_keys().get(str(issuer))
    if key is None:
        raise OAuthError("invalid_grant", "Invalid grant: account not found")
    try:
        signature = _b64url(pieces[2])
        key.verify(signature, f"{pieces[0]}.{pieces[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise OAuthError("invalid_grant", "Invalid JWT Signature.") from None
    audience = claims.get("aud")
    if audience not in (token_url, GOOGLE_TOKEN_URI) and not str(audience).endswith("/token"):
        raise OAuthError("invalid_grant", f"Invalid JWT: aud must be the token endpoint, got {audience!r}.")
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        raise OAuthError("invalid_grant", BAD_TIMES)
    if (
        issued > now + CLOCK_SKEW_S
        or expires < now - CLOCK_SKEW_S
        or expires - issued > MAX_ASSERTION_LIFETIME_S
    ):
        raise OAuthError("invalid_grant", BAD_TIMES)
    if not claims.get("scope"):
        raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    return str(issuer)


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_grant", "Invalid JWT: a segment is not base64url.") from None


def _json_segment(text: str) -> dict[str, object]:
    try:
        value = orjson.loads(_b64url(text))
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise OAuthError("invalid_grant", "Invalid JWT: a segment is not a JSON object.")
    return value


class TokenIssuer:
    """Access tokens handed out and when each expires (expired ones are dropped as new ones come)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self) -> dict[str, object]:
        now = self._clock()
        for token in [t for t, at in self._expiry.items() if at <= now]:
            del self._expiry[token]
        token = f"ya29.sandbox-{secrets.token_urlsafe(32)}"
        self._expiry[token] = now + TOKEN_LIFETIME_S
        return {"access_token": token, "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"}

    def valid(self, token: str) -> bool:
        expiry = self._expiry.get(token)
        return expiry is not None and expiry > self._clock()

    def expired(self, token: str) -> bool:
        """Issued here but past its lifetime (and not yet dropped)."""
        expiry = self._expiry.get(token)
        return expiry is not None and expiry <= self._clock()


def grant(form: dict[str, str], token_url: str, issuer: TokenIssuer) -> dict[str, object]:
    """The token answer for a JWT bearer grant; OAuthError for anything else."""
    grant_type = form.get("grant_type")
    if grant_type != JWT_BEARER_GRANT:
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type or ''}")
    assertion = form.get("assertion")
    if not assertion:
        raise OAuthError("invalid_request", "Missing required parameter: assertion")
    verify_assertion(assertion, token_url, time.time())
    return issuer.issue()
