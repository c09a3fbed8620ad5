"""Bearer-key authentication and the two roles (admin, user)."""

from __future__ import annotations

from starlette.requests import Request

from mediarouter.errors import forbidden, unauthenticated
from mediarouter.store.keys import KeyRecord, KeyStore

_PLACEHOLDERS = {"none", "null", "undefined", ""}


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip()
        return None
    return request.headers.get("x-api-key") or request.headers.get("api-key")


async def authenticate(request: Request) -> KeyRecord:
    """The caller's key record; 401 for missing, malformed, placeholder or revoked keys."""
    return await authenticate_with(request, request.app.state.gw.keys)


async def authenticate_with(request: Request, keys: KeyStore) -> KeyRecord:
    """As `authenticate`, for sub-applications (the sandbox) that hold the key store themselves."""
    cached = request.scope.get("mediarouter.key")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    key = bearer(request)
    if key is None:
        raise unauthenticated("Missing API key: send 'Authorization: Bearer <key>'")
    if key.lower() in _PLACEHOLDERS:
        raise unauthenticated(
            f"Invalid API key '{key}': the client sent a placeholder, not a key (is MEDIAROUTER_API_KEY set?)"
        )
    record = await keys.verify(key)
    if record is None:
        raise unauthenticated("Invalid API key")
    request.scope["mediarouter.key"] = record
    return record


async def require_admin(request: Request, keys: KeyStore | None = None) -> KeyRecord:
    record = await (authenticate(request) if keys is None else authenticate_with(request, keys))
    if not record.is_admin:
        raise forbidden("This endpoint needs an admin key")
    return record
