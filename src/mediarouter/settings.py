"""The one settings object: YAML file, then `MEDIAROUTER_<SECTION>_<KEY>` environment variables.

Each section is a dataclass; each field's `doc` metadata is its documentation. Top-level fields
live in `CoreSettings` and read `MEDIAROUTER_<KEY>`. `docs/configuration.md` is checked against
these classes by a test, so adding a field here means documenting it there.

Provider credentials are written `os.environ/NAME` in YAML and resolved here, never elsewhere.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mediarouter.errors import ConfigError

ENV_PREFIX = "MEDIAROUTER_"
ENV_REF = "os.environ/"


def _f(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass
class CoreSettings:
    data_dir: str = _f("./.mediarouter", "Directory holding the SQLite database and the local media store.")
    sandbox: bool = _f(False, "Wire every provider to its built-in sandbox emulator (all or nothing).")
    admin_key: str | None = _f(
        None, "Extra admin bearer key accepted whatever its shape (e.g. for bootstrapping)."
    )
    public_base_url: str | None = _f(
        None, "Base URL used for every URL the gateway hands out; default: from the request (X-Forwarded-*)."
    )
    database_url: str | None = _f(
        None, "postgresql://user@host/db for PostgreSQL; default: SQLite in data_dir."
    )
    database_busy_timeout_s: float = _f(
        30.0, "SQLite: how long a write waits while another process (a CLI command) holds the lock."
    )
    redis_url: str | None = _f(
        None, "redis://host:6379/0 to share limits, budgets and provider health; default: memory."
    )
    redis_prefix: str = _f(
        "mediarouter", "Prefix of every Redis key (lets several gateways share one Redis)."
    )


@dataclass
class ServerSettings:
    host: str = _f("127.0.0.1", "Address `mediarouter serve` binds to.")
    port: int = _f(8080, "Port `mediarouter serve` listens on.")
    access_log: bool = _f(False, "Write an access line per request to stderr (costs CPU on the hot path).")
    protect_metrics: bool = _f(False, "Require an admin key for /metrics.")
    graceful_shutdown_s: float = _f(30.0, "On SIGTERM, how long in-flight requests may take to finish.")
    key_cache_s: float = _f(
        5.0,
        "How long a key lookup is cached: a key revoked elsewhere (CLI, another instance) stops working"
        " within this time; on the instance that revoked it, at once.",
    )


@dataclass
class LimitsSettings:
    max_body_bytes: int = _f(64 * 1024 * 1024, "Largest request body accepted (413 beyond).")
    max_image_bytes: int = _f(25 * 1024 * 1024, "Largest single input image accepted (413 beyond).")
    max_input_images: int = _f(16, "Most input images accepted on one edit request.")
    max_n: int = _f(10, "Largest `n` accepted on one image request.")
    max_prompt_chars: int = _f(32000, "Longest prompt accepted, in characters.")
    max_upstream_bytes: int = _f(256 * 1024 * 1024, "Largest upstream response or fetched image accepted.")
    max_connections_per_provider: int = _f(4096, "Concurrent upstream connections per provider.")
    idempotency_ttl_s: float = _f(
        86400.0, "How long an Idempotency-Key's first successful answer is replayed."
    )
    in_flight_ttl_s: float = _f(
        0.0,
        "How long a running request holds its Idempotency-Key claim and its concurrency slot in Redis:"
        " what a crashed instance held is freed after this. 0: timeouts.request_s + 60.",
    )
    chat_default_max_tokens: int = _f(
        4096,
        "Output tokens a chat request without max_tokens is reserved for against a key's budget (not"
        " sent upstream: a longer answer can pass the budget by the difference).",
    )


@dataclass
class TimeoutsSettings:
    connect_s: float = _f(10.0, "Upstream TCP connect timeout.")
    attempt_s: float = _f(
        180.0, "Time one provider call may take (for a job-based API: until the provider accepts the job)."
    )
    job_s: float = _f(
        300.0,
        "Time an accepted upstream job (Replicate, fal, DashScope...) is polled before it is cancelled.",
    )
    request_s: float = _f(300.0, "Overall deadline for one gateway request, all attempts included.")
    poll_interval_s: float = _f(1.0, "First delay between polls of an upstream job; grows with backoff.")
    poll_max_interval_s: float = _f(5.0, "Largest delay between polls of an upstream job.")
    fetch_s: float = _f(60.0, "Time allowed to download an image URL returned by a provider.")


@dataclass
class ImagesSettings:
    default_response_format: str = _f(
        "url", "`response_format` used when the caller sends none: url or b64_json."
    )


@dataclass
class MediaSettings:
    url_ttl_s: int = _f(3600, "How long signed media URLs stay valid; expired media is deleted.")
    prune_interval_s: float = _f(60.0, "How often expired media is deleted.")
    signing_key: str | None = _f(
        None, "HMAC key for media URLs; default: generated once and kept in data_dir."
    )
    backend: str = _f("local", "Media store: local (data_dir/media) or s3 (any S3-compatible server).")
    s3_endpoint: str | None = _f(None, "S3 endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com.")
    s3_bucket: str | None = _f(None, "S3 bucket holding generated media.")
    s3_region: str = _f("us-east-1", "S3 region used for request signing.")
    s3_access_key: str | None = _f(None, "S3 access key id (os.environ/NAME reads a variable).")
    s3_secret_key: str | None = _f(None, "S3 secret key (os.environ/NAME reads a variable).")
    s3_prefix: str = _f("media/", "Key prefix of media objects in the bucket.")
    s3_timeout_s: float = _f(60.0, "Time one request to the S3 server may take (storing, serving, pruning).")


@dataclass
class LogSettings:
    retention_days: float = _f(30.0, "Request-log rows older than this are pruned.")
    store_prompts: bool = _f(False, "Keep prompts in the request log.")
    flush_interval_s: float = _f(
        1.0, "Pause before retrying a failed request-log write (rows are written at once)."
    )
    prune_interval_s: float = _f(3600.0, "How often old request-log rows are pruned.")
    commit_before_answer: str = _f(
        "auto",
        "auto, always or never: commit a request's row (image or chat) before its answer goes out, so another"
        " instance can read it as soon as the client has the answer (the same instance always can: its"
        " reads flush first). auto: always on PostgreSQL, never on SQLite (saves the p99 tail).",
    )


@dataclass
class RoutingSettings:
    policy: str = _f(
        "balanced", "Default policy: balanced, priority, cheapest or fastest (per-model `rules` in YAML)."
    )
    weight_price: float = _f(1.0, "Balanced policy: weight of the estimated price.")
    weight_latency: float = _f(1.0, "Balanced policy: weight of the observed latency (EWMA).")
    weight_success: float = _f(2.0, "Balanced policy: weight of the recent failure rate.")
    max_attempts: int = _f(4, "Most provider attempts for one routed request.")
    max_retry_after_s: float = _f(
        2.0, "A 429/503 with a Retry-After up to this is retried once on the same provider."
    )
    hedge_after_ms: int = _f(
        0, "Start a second provider if the first has not answered in this time (0: off)."
    )
    breaker_window_s: float = _f(60.0, "Rolling window of the health statistics and the circuit breaker.")
    breaker_min_requests: int = _f(5, "Attempts needed in the window before the breaker may open.")
    breaker_failure_rate: float = _f(0.5, "Failure rate in the window that opens the breaker.")
    breaker_cooldown_s: float = _f(30.0, "How long an open breaker keeps a provider out before a probe.")
    breaker_half_open_probes: int = _f(1, "Concurrent probe attempts allowed through a half-open breaker.")
    seed: int | None = _f(None, "Seed for the weighted random choices (set it for repeatable routing).")


@dataclass
class EmulatorSettings:
    image_cache: int = _f(64, "How many rendered sandbox images are kept in memory for reuse.")
    hang_s: float = _f(3600.0, "How long the `timeout` fault mode holds a request before giving up.")
    url_ttl_s: int = _f(3600, "How long images served by an emulator stay downloadable.")


@dataclass
class ProviderConfig:
    """One upstream: credentials and endpoint. Built-ins are keyed by slug; extras may set `kind`."""

    slug: str
    api_key: str | None = None
    base_url: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def has_credentials(self) -> bool:
        """An API key, or another credential the provider uses (e.g. a Vertex service account)."""
        return bool(
            self.api_key
            or self.options.get("service_account_file")
            or self.options.get("service_account")
            or self.options.get("kind") == "openai_compatible"  # a self-hosted server may need no key
        )

    def __repr__(self) -> str:  # never print secrets
        return f"ProviderConfig(slug={self.slug!r}, base_url={self.base_url!r})"


SECTIONS: dict[str, type] = {
    "": CoreSettings,
    "server": ServerSettings,
    "limits": LimitsSettings,
    "timeouts": TimeoutsSettings,
    "images": ImagesSettings,
    "media": MediaSettings,
    "log": LogSettings,
    "routing": RoutingSettings,
    "emulator": EmulatorSettings,
}


@dataclass
class Settings:
    core: CoreSettings = field(default_factory=CoreSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    timeouts: TimeoutsSettings = field(default_factory=TimeoutsSettings)
    images: ImagesSettings = field(default_factory=ImagesSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    log: LogSettings = field(default_factory=LogSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    emulator: EmulatorSettings = field(default_factory=EmulatorSettings)
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    catalog: dict[str, Any] = field(default_factory=dict)
    routing_rules: list[dict[str, Any]] = field(default_factory=list)
    source: str = "<defaults>"

    @property
    def in_flight_ttl_s(self) -> float:
        """`limits.in_flight_ttl_s`, or the request deadline plus a minute for what follows routing."""
        return self.limits.in_flight_ttl_s or self.timeouts.request_s + 60

    @property
    def data_dir(self) -> Path:
        return Path(self.core.data_dir)

    @property
    def sandbox_mode(self) -> bool:
        """Sandbox when asked, or when no provider has credentials (all or nothing)."""
        return self.core.sandbox or not any(p.has_credentials for p in self.providers.values())


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}" if section else f"{ENV_PREFIX}{key.upper()}"


def iter_fields() -> typing.Iterator[tuple[str, dataclasses.Field[Any], Any]]:
    """(section, field, resolved type) for every scalar setting."""
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            yield section, f, hints[f.name]


def _coerce(value: Any, typ: Any, where: str, env: dict[str, str]) -> Any:
    optional = False
    if isinstance(typ, types.UnionType) or typing.get_origin(typ) is typing.Union:
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        optional, typ = True, args[0]
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise ConfigError(f"{where}: a value is required")
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected a boolean, got {value!r}")
        if typ is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"expected an integer, got {value!r}")
            return int(value)
        if typ is float:
            if isinstance(value, bool):
                raise ValueError(f"expected a number, got {value!r}")
            return float(value)
        if typ is str:
            if isinstance(value, (dict, list)):
                raise ValueError(f"expected a string, got {type(value).__name__}")
            return resolve_env_ref(str(value), where, env)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return value


def resolve_env_ref(value: str, where: str, env: dict[str, str]) -> str:
    """`os.environ/NAME` -> the variable's value; a missing variable is a config error."""
    if not value.startswith(ENV_REF):
        return value
    name = value[len(ENV_REF) :]
    if name not in env:
        raise ConfigError(f"{where}: environment variable {name} is not set")
    return env[name]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return raw


def _load_providers(raw: Any, where: str, env: dict[str, str]) -> dict[str, ProviderConfig]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: key 'providers' must be a mapping of provider slug to settings")
    from mediarouter.providers.registry import BUILTIN_SLUGS

    out: dict[str, ProviderConfig] = {}
    for slug, conf in raw.items():
        conf = conf or {}
        if not isinstance(conf, dict):
            raise ConfigError(f"{where}: key 'providers.{slug}' must be a mapping")
        if slug not in BUILTIN_SLUGS and conf.get("kind") != "openai_compatible":
            close = difflib.get_close_matches(str(slug), BUILTIN_SLUGS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                f"{where}: key 'providers.{slug}' is not a known provider ({hint}known: "
                f"{', '.join(BUILTIN_SLUGS)}); a custom endpoint needs 'kind: openai_compatible'"
            )
        conf = dict(conf)
        key = conf.pop("api_key", None)
        base = conf.pop("base_url", None)
        out[str(slug)] = ProviderConfig(
            slug=str(slug),
            api_key=resolve_env_ref(str(key), f"{where}: key 'providers.{slug}.api_key'", env)
            if key
            else None,
            base_url=str(base).rstrip("/") if base else None,
            options=conf,
        )
    return out


def load_settings(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings from an optional YAML file plus the environment; raise ConfigError when wrong."""
    env = dict(os.environ if env is None else env)
    raw: dict[str, Any] = {}
    where = "<environment>"
    if path is None and env.get(f"{ENV_PREFIX}CONFIG"):
        path = env[f"{ENV_PREFIX}CONFIG"]
    if path is not None:
        raw = _read_yaml(Path(path))
        where = str(path)
    settings = Settings(source=where)
    known = (
        {s for s in SECTIONS if s}
        | {"providers", "catalog"}
        | {f.name for f in dataclasses.fields(CoreSettings)}
    )
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    routing_block = raw.get("routing")
    if isinstance(routing_block, dict) and "rules" in routing_block:
        routing_block = dict(routing_block)
        settings.routing_rules = _routing_rules(routing_block.pop("rules"), where)
        raw = {**raw, "routing": routing_block}
    for section, f, typ in iter_fields():
        block = raw if not section else raw.get(section) or {}
        if not isinstance(block, dict):
            raise ConfigError(f"{where}: key '{section}' must be a mapping")
        if section:
            names = {x.name for x in dataclasses.fields(SECTIONS[section])}
            for key in block:
                if key not in names:
                    raise ConfigError(
                        f"{where}: unknown key '{section}.{key}' (known: {', '.join(sorted(names))})"
                    )
        target = getattr(settings, section or "core")
        dotted = f"{section}.{f.name}" if section else f.name
        if f.name in block:
            setattr(target, f.name, _coerce(block[f.name], typ, f"{where}: key '{dotted}'", env))
        name = env_name(section, f.name)
        if name in env:
            setattr(target, f.name, _coerce(env[name], typ, f"environment variable {name}", env))
    settings.providers = _load_providers(raw.get("providers"), where, env)
    _providers_from_env(settings, env)
    settings.catalog = raw.get("catalog") or {}
    _validate(settings, where)
    return settings


def _routing_rules(raw: Any, where: str) -> list[dict[str, Any]]:
    """`routing.rules`: [{match: "flux*", policy: priority, groups: [[fal], [replicate, runware]], weights: {...}}]."""
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: key 'routing.rules' must be a list")
    for i, rule in enumerate(raw):
        key = f"routing.rules[{i}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), str):
            raise ConfigError(f"{where}: key '{key}' needs a string 'match' (a model glob such as 'flux*')")
        if rule.get("policy", "priority") not in ("balanced", "priority", "cheapest", "fastest"):
            raise ConfigError(f"{where}: key '{key}.policy' must be balanced, priority, cheapest or fastest")
        groups = rule.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise ConfigError(f"{where}: key '{key}.groups' must be a list of lists of provider slugs")
        if not isinstance(rule.get("weights", {}), dict):
            raise ConfigError(f"{where}: key '{key}.weights' must map provider slugs to numbers")
    return raw


def _providers_from_env(settings: Settings, env: dict[str, str]) -> None:
    """`MEDIAROUTER_PROVIDERS_<SLUG>_API_KEY` / `_BASE_URL` for built-in slugs."""
    from mediarouter.providers.registry import BUILTIN_SLUGS

    for slug in BUILTIN_SLUGS:
        for attr in ("api_key", "base_url"):
            name = f"{ENV_PREFIX}PROVIDERS_{slug.upper()}_{attr.upper()}"
            if env.get(name):
                conf = settings.providers.setdefault(slug, ProviderConfig(slug=slug))
                setattr(conf, attr, env[name].rstrip("/") if attr == "base_url" else env[name])


def _validate(settings: Settings, where: str) -> None:
    media = settings.media
    if media.backend not in ("local", "s3"):
        raise ConfigError(f"{where}: key 'media.backend' must be local or s3")
    if media.backend == "s3" and not (
        media.s3_endpoint and media.s3_bucket and media.s3_access_key and media.s3_secret_key
    ):
        raise ConfigError(
            f"{where}: media.backend s3 needs media.s3_endpoint, s3_bucket, s3_access_key and s3_secret_key"
        )
    public = settings.core.public_base_url
    if public and not public.startswith(("http://", "https://")):
        raise ConfigError(
            f"{where}: key 'public_base_url' must be an http:// or https:// URL, not {public!r}"
        )
    url = settings.core.database_url
    if url and not url.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise ConfigError(f"{where}: key 'database_url' must start with postgresql:// or sqlite:///")
    if settings.core.redis_url and not settings.core.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError(f"{where}: key 'redis_url' must start with redis://, rediss:// or unix://")
    if settings.routing.policy not in ("balanced", "priority", "cheapest", "fastest"):
        raise ConfigError(f"{where}: key 'routing.policy' must be balanced, priority, cheapest or fastest")
    if settings.log.commit_before_answer not in ("auto", "always", "never"):
        raise ConfigError(f"{where}: key 'log.commit_before_answer' must be auto, always or never")
    fmt = settings.images.default_response_format
    if fmt not in ("url", "b64_json"):
        raise ConfigError(
            f"{where}: key 'images.default_response_format' must be 'url' or 'b64_json', not {fmt!r}"
        )
    for section, f, typ in iter_fields():
        value = getattr(getattr(settings, section or "core"), f.name)
        if typ in (int, float) and value < 0:
            dotted = f"{section}.{f.name}" if section else f.name
            raise ConfigError(f"{where}: key '{dotted}' must not be negative")
    if not 0 <= settings.server.port < 65536:
        raise ConfigError(f"{where}: key 'server.port' must be between 0 and 65535")


def reference_table() -> str:
    """The settings reference as Markdown; docs/configuration.md embeds it (a test keeps them equal)."""
    lines: list[str] = []
    current = None
    for section, f, _ in iter_fields():
        if section != current:
            current = section
            lines += [
                "",
                f"### {section or 'top level'}",
                "",
                "| YAML key | environment variable | default | meaning |",
            ]
            lines.append("|---|---|---|---|")
        default = f.default
        shown = (
            "(none)"
            if default is None
            else str(default).lower()
            if isinstance(default, bool)
            else str(default)
        )
        key = f"{section}.{f.name}" if section else f.name
        lines.append(f"| `{key}` | `{env_name(section, f.name)}` | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(lines).strip() + "\n"
