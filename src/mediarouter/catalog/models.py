"""Catalog types and loader: models, their aliases, capabilities, and who serves them at what price.

The catalog is data (`data/*.yaml`); the config's `catalog:` section may add models or override
fields of shipped ones (`catalog: {models: [...]}` rows merged by `id`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from mediarouter.errors import ConfigError

DATA_DIR = Path(__file__).parent / "data"
MODES = ("generate", "edit", "upscale")


@dataclass(frozen=True)
class Price:
    per: str  # image | megapixel | token
    usd: float = 0.0  # per image, or per megapixel (an image's first one when `extra_usd` is set)
    input: float = 0.0  # USD per million input tokens
    output: float = 0.0  # USD per million output tokens
    variants: dict[str, float] = field(default_factory=dict)
    extra_usd: float | None = None  # per megapixel after an image's first (fal's FLUX.2: $0.03 + $0.015)
    inputs: bool = False  # input images are billed as processed megapixels too (fal's FLUX.2 edits)


# What a provider row may narrow for its own offering (a model field each, same meaning): an
# adapter that cannot send what the model allows (fal's qwen-image-edit takes one image) says so
# here, and the router leaves that provider out for such requests instead of failing at it.
CAPABILITIES = ("modes", "max_n", "max_input_images", "output_formats", "mask")


@dataclass(frozen=True)
class Offering:
    """One provider serving one model: its own model id, its price, adapter options, and the
    capabilities where this provider does less than the model (None: as the model)."""

    provider: str
    model_id: str
    price: Price
    source: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    modes: tuple[str, ...] | None = None
    max_n: int | None = None
    max_input_images: int | None = None
    output_formats: tuple[str, ...] | None = None
    mask: bool | None = None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    creator: str
    modes: tuple[str, ...]
    offerings: tuple[Offering, ...]
    aliases: tuple[str, ...] = ()
    description: str = ""
    kind: str = "image"  # image | text
    sizes: tuple[str, ...] = ()
    default_size: str | None = None
    aspect_ratios: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    max_n: int = 1
    output_formats: tuple[str, ...] = ("png",)
    max_input_images: int = 0
    mask: bool = False
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)
    quality_aliases: dict[str, str] = field(default_factory=dict)

    def offering(self, provider: str) -> Offering | None:
        return next((o for o in self.offerings if o.provider == provider), None)

    def served_by(self, offering: Offering) -> ModelSpec:
        """The model as this provider serves it: its capabilities narrowed by the offering's."""
        changes = {k: v for k in CAPABILITIES if (v := getattr(offering, k)) is not None}
        return replace(self, **changes) if changes else self


class Catalog:
    """Model lookup by id or alias, built once at start-up."""

    def __init__(self, models: list[ModelSpec]) -> None:
        self.models = models
        self._by_name: dict[str, ModelSpec] = {}
        for model in models:
            for name in (model.id, *model.aliases):
                self._by_name[name.lower()] = model

    def get(self, name: str) -> ModelSpec | None:
        return self._by_name.get(name.lower())

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name.lower(), list(self._by_name), n=1, cutoff=0.6)
        return self._by_name[close[0]].id if close else None

    def providers(self) -> set[str]:
        return {o.provider for m in self.models for o in m.offerings}


ROW_KEYS = frozenset(
    {
        "id", "name", "creator", "modes", "providers", "aliases", "description", "kind", "sizes",
        "default_size", "aspect_ratios", "resolutions", "max_n", "output_formats", "max_input_images",
        "mask", "params", "quality_aliases", "source", "notes",
    }
)  # fmt: skip


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of strings (or one string) under `key`; ConfigError naming the key otherwise."""
    value = raw.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ConfigError(f"{where}: key '{key}' must be a list of strings, not {value!r}")
    return tuple(str(v) for v in value)


def _number(raw: dict[str, Any], key: str, where: str, default: float, kind: type = int) -> Any:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}: key '{key}' must be a non-negative number, not {value!r}")
    return kind(value)


def _mapping(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: key '{key}' must be a mapping, not {value!r}")
    return value


def _price(raw: Any, where: str) -> Price:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: price must be a mapping such as {{per: image, usd: 0.04}}, not {raw!r}")
    per = raw.get("per")
    if per not in ("image", "megapixel", "token"):
        raise ConfigError(f"{where}: price.per must be image, megapixel or token, not {per!r}")
    unknown = sorted(set(raw) - PRICE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown price key(s) {', '.join(unknown)} (known: {', '.join(sorted(PRICE_KEYS))})"
        )
    extra = raw.get("extra_usd")
    if extra is not None and per != "megapixel":
        raise ConfigError(f"{where}: price.extra_usd is for per: megapixel prices")
    return Price(
        per=per,
        usd=_number(raw, "usd", f"{where}: price", 0.0, float),
        input=_number(raw, "input", f"{where}: price", 0.0, float),
        output=_number(raw, "output", f"{where}: price", 0.0, float),
        variants={
            str(k): _number({"v": v}, "v", f"{where}: price.variants.{k}", 0.0, float)
            for k, v in _mapping(raw, "variants", f"{where}: price").items()
        },
        extra_usd=None if extra is None else _number(raw, "extra_usd", f"{where}: price", 0.0, float),
        inputs=bool(raw.get("inputs", False)),
    )


PRICE_KEYS = frozenset({"per", "usd", "input", "output", "variants", "extra_usd", "inputs"})
OFFERING_KEYS = frozenset({"provider", "model_id", "price", "source", "options", *CAPABILITIES})


def _offering(prov: Any, where: str) -> Offering:
    if not isinstance(prov, dict) or "provider" not in prov or "model_id" not in prov:
        raise ConfigError(f"{where}: every row of 'providers' needs 'provider' and 'model_id'")
    where = f"{where}, provider '{prov['provider']}'"
    unknown = sorted(set(prov) - OFFERING_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(OFFERING_KEYS))})"
        )
    return Offering(
        provider=str(prov["provider"]),
        model_id=str(prov["model_id"]),
        price=_price(prov.get("price") or {"per": "image"}, where),
        source=str(prov.get("source", "")),
        options=_mapping(prov, "options", where),
        modes=_strings(prov, "modes", where) or None,
        max_n=_number(prov, "max_n", where, 0) if "max_n" in prov else None,
        max_input_images=_number(prov, "max_input_images", where, 0) if "max_input_images" in prov else None,
        output_formats=_strings(prov, "output_formats", where) or None,
        mask=bool(prov["mask"]) if "mask" in prov else None,
    )


def _check_narrows(model: ModelSpec, where: str) -> None:
    """An offering can only do less than its model: the model's fields are what requests are checked
    against (and what `GET /v1/models` shows), so a wider offering would be unreachable."""
    for o in model.offerings:
        wider = [
            name
            for name, wide in (
                ("modes", o.modes is not None and not set(o.modes) <= set(model.modes)),
                ("max_n", o.max_n is not None and not 1 <= o.max_n <= model.max_n),
                ("max_input_images", (o.max_input_images or 0) > model.max_input_images),
                (
                    "output_formats",
                    o.output_formats is not None and not set(o.output_formats) <= set(model.output_formats),
                ),
                ("mask", bool(o.mask) and not model.mask),
            )
            if wide
        ]
        if wider:
            raise ConfigError(
                f"{where}, provider '{o.provider}': {', '.join(wider)} may only narrow the model's (an offering does less, never more)"
            )


def _model(raw: dict[str, Any], where: str) -> ModelSpec:
    mid = raw.get("id")
    if not mid or not isinstance(mid, str):
        raise ConfigError(f"{where}: every model needs a string 'id'")
    where = f"{where}: model '{mid}'"
    unknown = sorted(set(raw) - ROW_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(ROW_KEYS))})"
        )
    kind = str(raw.get("kind", "image"))
    modes = _strings(raw, "modes", where) or ("generate",)
    for mode in modes:
        if mode not in MODES and kind == "image":
            raise ConfigError(f"{where}: unknown mode {mode!r} (known: {', '.join(MODES)})")
    providers = raw.get("providers") or []
    if not isinstance(providers, list):
        raise ConfigError(f"{where}: key 'providers' must be a list of {{provider, model_id, price}} rows")
    params = _mapping(raw, "params", where)
    for name, values in params.items():
        if not isinstance(values, list):
            raise ConfigError(f"{where}: key 'params.{name}' must be a list of accepted values")
    default_size = raw.get("default_size")
    model = ModelSpec(
        id=mid,
        name=str(raw.get("name", mid)),
        creator=str(raw.get("creator", "")),
        modes=modes,
        offerings=tuple(_offering(prov, where) for prov in providers),
        aliases=_strings(raw, "aliases", where),
        description=str(raw.get("description", "")),
        kind=kind,
        sizes=_strings(raw, "sizes", where),
        default_size=str(default_size) if default_size is not None else None,
        aspect_ratios=_strings(raw, "aspect_ratios", where),
        resolutions=_strings(raw, "resolutions", where),
        max_n=_number(raw, "max_n", where, 1),
        output_formats=_strings(raw, "output_formats", where) or ("png",),
        max_input_images=_number(raw, "max_input_images", where, 0),
        mask=bool(raw.get("mask", False)),
        params={k: tuple(str(x) for x in v) for k, v in params.items()},
        quality_aliases={str(k): str(v) for k, v in _mapping(raw, "quality_aliases", where).items()},
    )
    _check_narrows(model, where)
    return model


def load_catalog(overrides: dict[str, Any] | None = None, source: str = "<config>") -> Catalog:
    """Shipped data files, then the config's rows merged by id (a row with only some keys overrides them)."""
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        for row in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            rows[row["id"]] = row
    unknown = sorted(set(overrides or {}) - {"models"})
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) under 'catalog': {', '.join(unknown)} (known: models)")
    extra = (overrides or {}).get("models") or []
    if not isinstance(extra, list):
        raise ConfigError(f"{source}: key 'catalog.models' must be a list")
    for row in extra:
        if not isinstance(row, dict) or "id" not in row:
            raise ConfigError(f"{source}: every entry of 'catalog.models' needs an 'id'")
        rows[row["id"]] = {**rows.get(row["id"], {}), **row}
    return Catalog([_model(row, source) for row in rows.values()])
