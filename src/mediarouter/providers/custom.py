"""Custom OpenAI-compatible providers: config rows, no code per provider.

```yaml
providers:
  myhost:                      # any slug that is not a built-in one
    kind: openai_compatible
    name: My image server
    base_url: https://images.example.com/v1
    api_key: os.environ/MYHOST_KEY
    models:
      - id: my-sdxl            # a new catalog model: its capabilities come from this row
        model_id: sdxl-turbo   # the id the upstream expects
        modes: [generate, edit]
        sizes: [1024x1024, 512x512]
        max_n: 4
        output_formats: [png]
        max_input_images: 1
        price: {per: image, usd: 0.002}
        response_format: url              # what to ask for: b64_json | url | omit (send no field)
        media_hosts: [cdn.example.com]    # where its image URLs may be downloaded from
      - id: dall-e-2           # a shipped id: this provider becomes one more offering of it
        model_id: dall-e-2
        price: {per: image, usd: 0.015}
        max_n: 1               # what this provider does less than the model (capability overrides)
```
Requests are sent exactly as to OpenAI's Images API (`providers/openai.py`), under the row's slug.

A row has three kinds of keys. `id`, `model_id`, `price` and `source` describe the offering.
`ROW_OPTIONS` say how to call this upstream and land in the offering's `options`:
`response_format` replaces OpenAI's rule (base64 for `dall-e*` ids, no field for the others);
`media_hosts` lists the hosts (and their subdomains) whose image URLs the gateway may download,
besides the base URL's own host, and those downloads still pass the SSRF guard (no private or
local addresses). `MODEL_KEYS` are a new model's capabilities. On a row that joins a model already
in the catalog, the model keeps the catalog's: the keys an offering may narrow
(`catalog.models.CAPABILITIES`: modes, max_n, max_input_images, output_formats, mask) become this
offering's own, checked to do less, never more, than the model (the router then leaves the
provider out of requests it cannot serve); the others (sizes, aliases, name...) cannot apply to one
provider, so the row is refused with a ConfigError rather than silently trimmed. Any other key is
a typo and refused too.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from typing import Any

from mediarouter.catalog.models import (
    CAPABILITIES,
    Catalog,
    ModelSpec,
    _check_narrows,
    _model,
    _offering,
)
from mediarouter.errors import ConfigError
from mediarouter.providers.base import Call
from mediarouter.providers.openai import OpenAIAdapter
from mediarouter.settings import ProviderConfig

KIND = "openai_compatible"
OFFERING_KEYS = ("id", "model_id", "price", "source")
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
ROW_OPTIONS = ("response_format", "media_hosts")
ROW_KEYS = (*OFFERING_KEYS, *MODEL_KEYS, *ROW_OPTIONS)
RESPONSE_FORMATS = ("b64_json", "url", "omit")
_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


class OpenAICompatibleAdapter(OpenAIAdapter):
    """The OpenAI adapter under another slug and name, with the row's `response_format`."""

    def __init__(self, slug: str, name: str) -> None:
        self.slug = slug
        self.name = name

    def response_format(self, call: Call) -> str | None:
        chosen = call.offering.options.get("response_format")
        if chosen is None:
            return super().response_format(call)
        return None if chosen == "omit" else str(chosen)


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
            merged = _merge(models, slug, row, source)
            models[merged.id] = merged
    return Catalog(list(models.values()))


def _merge(models: dict[str, ModelSpec], slug: str, row: dict[str, Any], source: str) -> ModelSpec:
    where = f"{source}: key 'providers.{slug}.models'"
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        raise ConfigError(f"{where}: every model needs a string 'id'")
    where = f"{where}: model '{row['id']}'"
    _refuse_unknown_keys(row, where)
    existing = models.get(row["id"])
    offer = {
        "provider": slug,
        "model_id": str(row.get("model_id", row["id"])),
        "price": row.get("price") or {"per": "image"},
        "source": str(row.get("source", "")),
        "options": _row_options(row, where),
    }
    if existing is None:
        spec = _model({"id": row["id"], **{k: row[k] for k in MODEL_KEYS if k in row}}, where)
        return dataclasses.replace(spec, offerings=(_offering(offer, where),))
    model_only = [k for k in MODEL_KEYS if k in row and k not in CAPABILITIES]
    if model_only:
        raise ConfigError(
            f"{where}: {', '.join(model_only)} do not apply: '{row['id']}' is already in the catalog and"
            f" this row adds {slug} as one more provider of it; a provider row may only narrow"
            f" {', '.join(CAPABILITIES)}. Remove them, or give the row a new id to declare a model of its own"
        )
    offering = _offering({**offer, **{k: row[k] for k in CAPABILITIES if k in row}}, where)
    kept = tuple(o for o in existing.offerings if o.provider != slug)
    merged = dataclasses.replace(existing, offerings=(*kept, offering))
    _check_narrows(merged, where)
    return merged


def _refuse_unknown_keys(row: dict[str, Any], where: str) -> None:
    for key in row:
        if key not in ROW_KEYS:
            close = difflib.get_close_matches(str(key), ROW_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(ROW_KEYS)})"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")


def _row_options(row: dict[str, Any], where: str) -> dict[str, Any]:
    """The row's `ROW_OPTIONS`, checked, as the offering's `options`."""
    options: dict[str, Any] = {}
    fmt = row.get("response_format")
    if fmt is not None:
        if fmt not in RESPONSE_FORMATS:
            raise ConfigError(f"{where}: response_format must be one of {', '.join(RESPONSE_FORMATS)}")
        options["response_format"] = fmt
    hosts = row.get("media_hosts")
    if hosts is not None:
        names = (
            [h.lower().rstrip(".") for h in hosts if isinstance(h, str)] if isinstance(hosts, list) else []
        )
        if not names or len(names) != len(hosts) or not all(_HOST.fullmatch(h) for h in names):
            raise ConfigError(
                f"{where}: media_hosts must list host names such as cdn.example.com (no scheme, port or path)"
            )
        options["media_hosts"] = tuple(names)
    return options
