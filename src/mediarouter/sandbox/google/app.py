"""The two Google emulators: the Gemini API at `/sandbox/gemini` and Vertex AI at `/sandbox/vertex`.

Gemini API (base URL `.../sandbox/gemini/v1beta`; the genai SDK, given a base URL, uses `v1`):
  POST /{v1beta|v1|v1alpha}/models/{model}:generateContent | :predict     `x-goog-api-key` or `?key=`
Vertex AI (base URL `.../sandbox/vertex`, the host root):
  POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent | :predict
  POST /{v1|v1beta1}/publishers/google/models/{model}:...        express mode, `x-goog-api-key`
  POST /token                   OAuth2 JWT bearer grant (see `oauth.py`); not subject to faults
  GET  /service-account.json    the sandbox service account, its token_uri pointing here
Vertex model calls need `Authorization: Bearer <token from /token>` or an API key (express mode).

Each model call: credentials, then the body is read, then `book.hit(<slug>, model)` and any fault,
then validation, then real pictures from the shared renderer.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.providers.google.sandbox_account import sandbox_service_account
from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.google.errors import (
    GoogleDialect,
    RpcError,
    google_json,
    invalid_argument,
    rpc_error,
    unauthenticated,
)
from mediarouter.sandbox.google.generate_content import answer_gemini, parse_gemini_task
from mediarouter.sandbox.google.models import GEMINI_API, MODELS, VERTEX, GoogleModel
from mediarouter.sandbox.google.oauth import OAuthError, TokenIssuer, grant
from mediarouter.sandbox.google.predict import (
    answer_imagen,
    parse_imagen_task,
    sample_count,
    wants_rai_reasons,
)
from mediarouter.sandbox.injection import apply_fault

VERSIONS = {GEMINI_API: frozenset({"v1beta", "v1", "v1alpha"}), VERTEX: frozenset({"v1", "v1beta1"})}
METHODS = frozenset({"generateContent", "predict"})
JSON_PARSE_MESSAGE = "Invalid JSON payload received. Unexpected token."


def build_gemini_emulator(context: EmulatorContext) -> Starlette:
    emulator = GoogleEmulator(context, GEMINI_API, None)
    routes = [Route("/{version}/models/{target}", emulator.model_call, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers=_handlers())


def build_vertex_emulator(context: EmulatorContext) -> Starlette:
    emulator = GoogleEmulator(context, VERTEX, TokenIssuer())
    prefix = "/{version}/projects/{project}/locations/{location}"
    routes = [
        Route("/token", emulator.token, methods=["POST"]),
        Route("/service-account.json", emulator.service_account, methods=["GET"]),
        Route(prefix + "/publishers/google/models/{target}", emulator.model_call, methods=["POST"]),
        Route("/{version}/publishers/google/models/{target}", emulator.model_call, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers=_handlers())


class GoogleEmulator:
    def __init__(self, context: EmulatorContext, surface: str, issuer: TokenIssuer | None) -> None:
        self.context = context
        self.surface = surface
        self.issuer = issuer

    async def model_call(self, request: Request) -> Response:
        version = request.path_params["version"]
        model_id, _, method = request.path_params["target"].partition(":")
        if version not in VERSIONS[self.surface] or method not in METHODS:
            raise RpcError(404, f"Method not found: {version}/{request.path_params['target']}", "NOT_FOUND")
        self._authorize(request)
        try:
            body: Any = orjson.loads(await request.body())
            problem = None if isinstance(body, dict) else invalid_argument(JSON_PARSE_MESSAGE)
        except orjson.JSONDecodeError:
            body, problem = {}, invalid_argument(JSON_PARSE_MESSAGE)
        body = body if isinstance(body, dict) else {}
        model = self._model(model_id)
        fault = self.context.book.hit(self.surface, model_id)
        samples = sample_count(body, model) if model is not None else 1
        dialect = GoogleDialect(self.surface, model_id, method, wants_rai_reasons(body), samples)
        faulty = await apply_fault(fault, request, dialect, self.context.settings.hang_s)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        if model is None or model.method != method:
            raise self._not_found(request, model_id, version, method)
        renderer = self.context.renderer
        if method == "generateContent":
            return google_json(await answer_gemini(parse_gemini_task(body, model, self.surface), renderer))
        return google_json(await answer_imagen(parse_imagen_task(body, model, self.surface), renderer))

    async def token(self, request: Request) -> Response:
        assert self.issuer is not None
        form = await request.form()
        try:
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        finally:
            await form.close()
        token_url = str(request.url.replace(query="", fragment=""))
        answer = grant(fields, token_url, self.issuer)
        return Response(orjson.dumps(answer), media_type="application/json; charset=utf-8")

    async def service_account(self, request: Request) -> Response:
        prefix = request.scope.get("root_path", "")
        token_url = str(request.url.replace(path=f"{prefix}/token", query="", fragment=""))
        return google_json(sandbox_service_account(token_url))

    def _model(self, model_id: str) -> GoogleModel | None:
        model = MODELS.get(model_id)
        return model if model is not None and self.surface in model.surfaces else None

    def _authorize(self, request: Request) -> None:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if key and key.strip():
            return  # an API key (Gemini API, or Vertex express mode): any non-empty one
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if self.issuer is None:
            if scheme.lower() == "bearer" and token:
                return  # the Gemini API also takes OAuth tokens; it cannot check ours
            raise unauthenticated(self.surface, "CREDENTIALS_MISSING")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated(self.surface, "CREDENTIALS_MISSING")
        if self.issuer.expired(token):
            raise unauthenticated(self.surface, "ACCESS_TOKEN_EXPIRED")
        if not self.issuer.valid(token):
            raise unauthenticated(self.surface, "ACCESS_TOKEN_TYPE_UNSUPPORTED")

    def _not_found(self, request: Request, model_id: str, version: str, method: str) -> RpcError:
        if self.surface == GEMINI_API:
            message = (
                f"models/{model_id} is not found for API version {version}, or is not supported for "
                f"{method}. Call ListModels to see the list of available models and their supported methods."
            )
        else:
            project = request.path_params.get("project", "")
            location = request.path_params.get("location", "")
            where = f"projects/{project}/locations/{location}/" if project else ""
            message = (
                f"Publisher Model `{where}publishers/google/models/{model_id}` was not found or your project "
                "does not have access to it. Please ensure you are using a valid model version. For more "
                "information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
            )
        return RpcError(404, message, "NOT_FOUND")


def _handlers() -> dict[Any, Any]:
    async def rpc(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RpcError)
        return exc.response()

    async def oauth(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)
        return exc.response()

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        status = exc.status_code if exc.status_code in (404, 405) else 400
        text = (
            "Requested entity was not found."
            if status == 404
            else f"Method {request.method} is not allowed on {path}"
        )
        return RpcError(status, text, "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT").response()

    async def gone(request: Request, exc: Exception) -> Response:
        return Response(status_code=499)  # nobody is left to read it

    async def crash(request: Request, exc: Exception) -> Response:
        return rpc_error(GEMINI_API, 500, None).response()

    return {RpcError: rpc, OAuthError: oauth, HTTPException: http, ClientDisconnect: gone, Exception: crash}
