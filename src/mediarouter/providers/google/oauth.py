"""Vertex AI OAuth2 from a service account: a signed JWT traded for an access token, then cached.

The standard Google flow (RFC 7523 JWT bearer grant): an RS256 JWT with `iss` = the account's
`client_email`, `scope` = cloud-platform, `aud` = its `token_uri`, `iat`/`exp` an hour apart,
signed with the key file's private key and POSTed as a form to `token_uri`. The `access_token`
in the answer is reused until shortly before its `expires_in` runs out.

This is a credential source (`CREDENTIALS["vertex"]`, awaited by the router before an attempt),
not an adapter, so it does its own small piece of I/O with a short-lived aiohttp session. Neither
the private key nor a token is ever logged or put into an error message.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mediarouter.errors import ConfigError
from mediarouter.providers.base import UpstreamError, failure_for_status

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600
REFRESH_MARGIN_S = 300.0  # renew this long before expiry (at most half the token's life)
TOKEN_TIMEOUT_S = 10.0

# OAuth2 `error` codes of the token endpoint -> gateway failure (else by HTTP status).
TOKEN_ERRORS: dict[str, str] = {
    "invalid_grant": "auth",
    "invalid_client": "auth",
    "unauthorized_client": "auth",
    "invalid_scope": "auth",
    "access_denied": "auth",
    "invalid_request": "auth",
    "temporarily_unavailable": "overloaded",
}


def uses_service_account(options: Mapping[str, Any]) -> bool:
    return bool(options.get("service_account") or options.get("service_account_file"))


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    key_id: str | None
    token_uri: str
    project_id: str | None


def load_service_account(options: Mapping[str, Any]) -> ServiceAccount:
    """The account from `service_account` (JSON text or object) or `service_account_file`."""
    inline, path = options.get("service_account"), options.get("service_account_file")
    try:
        if inline:
            info = inline if isinstance(inline, Mapping) else json.loads(str(inline))
        else:
            info = json.loads(Path(str(path)).expanduser().read_text())
    except OSError as exc:
        raise ConfigError(f"vertex: cannot read service_account_file {path!r}: {exc.strerror}") from None
    except json.JSONDecodeError:
        raise ConfigError("vertex: the service account is not valid JSON") from None
    if not isinstance(info, Mapping) or not info.get("client_email") or not info.get("private_key"):
        raise ConfigError("vertex: the service account JSON needs 'client_email' and 'private_key'")
    try:
        key = serialization.load_pem_private_key(str(info["private_key"]).encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError("vertex: the service account's private_key is not a PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("vertex: the service account's private_key is not an RSA key")
    return ServiceAccount(
        client_email=str(info["client_email"]),
        private_key=key,
        key_id=info.get("private_key_id"),
        token_uri=str(info.get("token_uri") or GOOGLE_TOKEN_URI),
        project_id=info.get("project_id"),
    )


def build_assertion(account: ServiceAccount, now: float, scope: str = CLOUD_PLATFORM_SCOPE) -> str:
    """The signed RS256 JWT for the JWT bearer grant."""
    header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
    if account.key_id:
        header["kid"] = account.key_id
    issued = int(now)
    claims = {
        "iss": account.client_email,
        "scope": scope,
        "aud": account.token_uri,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
    }
    signing_input = f"{_b64url(orjson.dumps(header))}.{_b64url(orjson.dumps(claims))}".encode()
    signature = account.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{_b64url(signature)}"


def parse_token_answer(status: int, body: bytes) -> tuple[str, float]:
    """(access token, seconds it lives) from the token endpoint, or the UpstreamError it means."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        failure = failure_for_status(status) if status >= 400 else "malformed"
        raise UpstreamError(failure, f"the token endpoint answered HTTP {status} without JSON", status)
    if status >= 400 or not answer.get("access_token"):
        code = str(answer.get("error") or "")
        failure = TOKEN_ERRORS.get(code) or (failure_for_status(status) if status >= 400 else "malformed")
        if failure == "invalid_request":
            failure = "auth"
        description = answer.get("error_description") or code or "no access_token in the answer"
        raise UpstreamError(
            failure, f"service account token request failed: {description}", status, code or None
        )
    expires_in = answer.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
    return str(answer["access_token"]), lifetime


class TokenSource:
    """An async callable returning a current access token; one fetch at a time, cached until renewal."""

    def __init__(self, account: ServiceAccount, timeout_s: float = TOKEN_TIMEOUT_S) -> None:
        self.account = account
        self._timeout_s = timeout_s
        self._token: str | None = None
        self._renew_at = 0.0  # time.monotonic()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TokenSource({self.account.client_email})"

    async def __call__(self) -> str:
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                token, lifetime = await self._fetch()
                self._token = token
                self._renew_at = time.monotonic() + lifetime - min(REFRESH_MARGIN_S, lifetime / 2)
            return self._token

    async def _fetch(self) -> tuple[str, float]:
        form = {"grant_type": JWT_BEARER_GRANT, "assertion": build_assertion(self.account, time.time())}
        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    self.account.token_uri, data=form, headers={"Accept": "application/json"}
                ) as resp,
            ):
                status, body = resp.status, await resp.read()
        except TimeoutError:
            raise UpstreamError(
                "timeout", f"the token endpoint did not answer within {self._timeout_s:.0f} s"
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                "transport", f"the token endpoint is unreachable ({type(exc).__name__})"
            ) from None
        return parse_token_answer(status, body)


def vertex_credentials(options: dict[str, Any], api_key: str) -> Callable[[], Awaitable[str]]:
    """The `CREDENTIALS["vertex"]` factory: OAuth2 tokens with a service account, else the API key.

    A project missing from the config is taken from the key file (`project_id`), as gcloud does.
    """
    if not uses_service_account(options):

        async def express_key() -> str:
            return api_key

        return express_key
    account = load_service_account(options)
    if not options.get("project") and account.project_id:
        options["project"] = account.project_id
    return TokenSource(account, float(options.get("token_timeout_s", TOKEN_TIMEOUT_S)))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
