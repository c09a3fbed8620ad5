"""Catalog types and loader: models, their aliases, capabilities, and who serves them at what price.

The catalog is data (`data/*.yaml`); the config's `catalog:` section may add models or override
fields of shipped ones (`catalog: {models: [...]}` rows merged by `id`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mediarouter.errors import ConfigError

DATA_DIR = Path(__file__).parent / "data"
MODES = ("generate", "edit", "upscale")


@dataclass(frozen=True)
class Price:
    per: str  # image | megapixel | token
    usd: float = 0.0  # per image or megapixel
    input: float = 0.0  # USD per million input tokens
    output: float = 0.0  # USD per million output tokens
    variants: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Offering:
    """One provider serving one model: its own model id, its price, adapter options."""

    provider: str
    model_id: str
    price: Price
    source: str = ""
    options: dict[str, Any] = field(default_factory=dict)


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


def _price(raw: dict[str, Any], where: str) -> Price:
    per = raw.get("per")
    if per not in ("image", "megapixel", "token"):
        raise ConfigError(f"{where}: price.per must be image, megapixel or token, not {per!r}")
    return Price(
        per=per,
        usd=float(raw.get("usd", 0.0)),
        input=float(raw.get("input", 0.0)),
        output=float(raw.get("output", 0.0)),
        variants={str(k): float(v) for k, v in (raw.get("variants") or {}).items()},
    )


def _model(raw: dict[str, Any], where: str) -> ModelSpec:
    mid = raw.get("id")
    if not mid or not isinstance(mid, str):
        raise ConfigError(f"{where}: every model needs a string 'id'")
    where = f"{where}: model '{mid}'"
    modes = tuple(raw.get("modes") or ["generate"])
    for mode in modes:
        if mode not in MODES and raw.get("kind", "image") == "image":
            raise ConfigError(f"{where}: unknown mode {mode!r} (known: {', '.join(MODES)})")
    offerings = []
    for prov in raw.get("providers") or []:
        if "provider" not in prov or "model_id" not in prov:
            raise ConfigError(f"{where}: every provider row needs 'provider' and 'model_id'")
        offerings.append(
            Offering(
                provider=str(prov["provider"]),
                model_id=str(prov["model_id"]),
                price=_price(prov.get("price") or {"per": "image"}, where),
                source=str(prov.get("source", "")),
                options=dict(prov.get("options") or {}),
            )
        )
    return ModelSpec(
        id=mid,
        name=str(raw.get("name", mid)),
        creator=str(raw.get("creator", "")),
        modes=modes,
        offerings=tuple(offerings),
        aliases=tuple(raw.get("aliases") or ()),
        description=str(raw.get("description", "")),
        kind=str(raw.get("kind", "image")),
        sizes=tuple(str(s) for s in raw.get("sizes") or ()),
        default_size=raw.get("default_size"),
        aspect_ratios=tuple(str(s) for s in raw.get("aspect_ratios") or ()),
        resolutions=tuple(str(s) for s in raw.get("resolutions") or ()),
        max_n=int(raw.get("max_n", 1)),
        output_formats=tuple(raw.get("output_formats") or ("png",)),
        max_input_images=int(raw.get("max_input_images", 0)),
        mask=bool(raw.get("mask", False)),
        params={k: tuple(str(x) for x in v) for k, v in (raw.get("params") or {}).items()},
        quality_aliases=dict(raw.get("quality_aliases") or {}),
    )


def load_catalog(overrides: dict[str, Any] | None = None, source: str = "<config>") -> Catalog:
    """Shipped data files, then the config's rows merged by id (a row with only some keys overrides them)."""
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        for row in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            rows[row["id"]] = row
    extra = (overrides or {}).get("models") or []
    if not isinstance(extra, list):
        raise ConfigError(f"{source}: key 'catalog.models' must be a list")
    for row in extra:
        if not isinstance(row, dict) or "id" not in row:
            raise ConfigError(f"{source}: every entry of 'catalog.models' needs an 'id'")
        rows[row["id"]] = {**rows.get(row["id"], {}), **row}
    return Catalog([_model(row, source) for row in rows.values()])
