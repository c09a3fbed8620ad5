"""Custom OpenAI-compatible providers: config rows, no code per provider.

```yaml
providers:
  myhost:                      # any slug that is not a built-in one
    kind: openai_compatible
    name: My image server
    base_url: https://images.example.com/v1
    api_key: os.environ/MYHOST_KEY
    models:
      - id: my-sdxl            # a new catalog model, or an existing id to add this provider to it
        model_id: sdxl-turbo   # the id the upstream expects
        modes: [generate, edit]
        sizes: [1024x1024, 512x512]
        max_n: 4
        output_formats: [png]
        max_input_images: 1
        price: {per: image, usd: 0.002}
```
Requests are sent exactly as to OpenAI's Images API (`providers/openai.py`), under the row's slug.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mediarouter.catalog.models import Catalog, ModelSpec, Offering, _model, _price
from mediarouter.errors import ConfigError
from mediarouter.providers.openai import OpenAIAdapter
from mediarouter.settings import ProviderConfig

KIND = "openai_compatible"
MODEL_KEYS = (
    "modes",
    "sizes",
    "default_size",
    "aspect_ratios",
    "resolutions",
    "max_n",
    "output_formats",
    "max_input_images",
    "mask",
    "params",
    "aliases",
    "name",
    "description",
    "creator",
)


class OpenAICompatibleAdapter(OpenAIAdapter):
    """The OpenAI adapter under another slug and name."""

    def __init__(self, slug: str, name: str) -> None:
        self.slug = slug
        self.name = name


def is_custom(conf: ProviderConfig) -> bool:
    return conf.options.get("kind") == KIND


def add_custom_offerings(catalog: Catalog, providers: dict[str, ProviderConfig], source: str) -> Catalog:
    """A catalog with each custom provider's models added (new models, or offerings on existing ones)."""
    models = {m.id: m for m in catalog.models}
    for slug, conf in providers.items():
        if not is_custom(conf):
            continue
        rows = conf.options.get("models") or []
        if not isinstance(rows, list) or not rows:
            raise ConfigError(
                f"{source}: key 'providers.{slug}.models' must list the models this provider serves"
            )
        if not conf.base_url:
            raise ConfigError(
                f"{source}: key 'providers.{slug}.base_url' is required for an openai_compatible provider"
            )
        for row in rows:
            models[row.get("id", "")] = _merge(models, slug, row, source)
    return Catalog(list(models.values()))


def _merge(models: dict[str, ModelSpec], slug: str, row: dict[str, Any], source: str) -> ModelSpec:
    where = f"{source}: key 'providers.{slug}.models'"
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        raise ConfigError(f"{where}: every model needs a string 'id'")
    offering = Offering(
        slug, str(row.get("model_id", row["id"])), _price(row.get("price") or {"per": "image"}, where)
    )
    existing = models.get(row["id"])
    if existing is not None:
        kept = tuple(o for o in existing.offerings if o.provider != slug)
        return dataclasses.replace(existing, offerings=(*kept, offering))
    spec = _model({"id": row["id"], **{k: row[k] for k in MODEL_KEYS if k in row}}, where)
    return dataclasses.replace(spec, offerings=(offering,))
