"""The OpenAI image models the emulator knows, as data: what each accepts and how big it draws.

Model catalogues drift; a new model is a new row. `params` lists the optional request fields a model
accepts beyond those every model takes (`model`, `prompt`, `n`, `size`, `quality`, `user`,
`safety_identifier`); anything else is answered the way OpenAI does, "Unknown parameter".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GPT_SIZES = ("auto", "1024x1024", "1536x1024", "1024x1536")
GPT_QUALITIES = ("low", "medium", "high", "auto")
GPT_PARAMS = frozenset(
    {
        "background",
        "output_format",
        "output_compression",
        "moderation",
        "stream",
        "partial_images",
        "input_fidelity",
    }
)
OUTPUT_FORMATS = ("png", "jpeg", "webp")
SIZE_PATTERN = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    family: str  # "gpt-image" (base64, tokens) or "dall-e" (URLs, per image)
    sizes: tuple[str, ...]  # named sizes accepted; "auto" where the model chooses
    qualities: tuple[str, ...]
    default_quality: str
    max_prompt_chars: int
    max_n: int
    params: frozenset[str]
    max_edit_images: int  # 0 = no edits
    custom_sizes: bool = False  # any WxH within CUSTOM_SIZE_LIMITS
    variations: bool = False

    @property
    def is_gpt_image(self) -> bool:
        return self.family == "gpt-image"

    @property
    def default_size(self) -> str:
        return self.sizes[0]


@dataclass(frozen=True)
class CustomSizeLimits:
    multiple: int = 16
    max_edge: int = 3840
    max_pixels: int = 3840 * 2160
    max_aspect: float = 3.0


CUSTOM_SIZE_LIMITS = CustomSizeLimits()


def _gpt_image(model_id: str, custom_sizes: bool = False, input_fidelity: bool = True) -> ModelSpec:
    params = GPT_PARAMS if input_fidelity else GPT_PARAMS - {"input_fidelity"}
    return ModelSpec(
        model_id, "gpt-image", GPT_SIZES, GPT_QUALITIES, "auto", 32000, 10, params, 16, custom_sizes
    )


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _gpt_image("gpt-image-1"),
        _gpt_image("gpt-image-1-mini", input_fidelity=False),
        _gpt_image("gpt-image-1.5"),
        _gpt_image("chatgpt-image-latest"),
        _gpt_image("gpt-image-2", custom_sizes=True),
        _gpt_image("gpt-image-2-2026-04-21", custom_sizes=True),
        ModelSpec(
            "dall-e-2",
            "dall-e",
            ("1024x1024", "512x512", "256x256"),
            ("standard",),
            "standard",
            1000,
            10,
            frozenset({"response_format"}),
            max_edit_images=1,
            variations=True,
        ),
        ModelSpec(
            "dall-e-3",
            "dall-e",
            ("1024x1024", "1792x1024", "1024x1792"),
            ("standard", "hd"),
            "standard",
            4000,
            1,
            frozenset({"response_format", "style"}),
            max_edit_images=0,
        ),
    )
}
DEFAULT_GENERATION_MODEL = "dall-e-2"  # the API's documented default when `model` is left out
DEFAULT_EDIT_MODEL = "gpt-image-1.5"
DEFAULT_VARIATION_MODEL = "dall-e-2"

# Output image tokens of a 1024x1024 GPT image by quality; other sizes scale with their area.
OUTPUT_TOKENS_1024 = {"low": 272, "medium": 1056, "high": 4160}
AUTO_QUALITY = "medium"  # what `quality: auto` resolves to (echoed in the response)


def parse_size(size: str) -> tuple[int, int] | None:
    match = SIZE_PATTERN.match(size)
    return (int(match[1]), int(match[2])) if match else None


def custom_size_problem(width: int, height: int, limits: CustomSizeLimits = CUSTOM_SIZE_LIMITS) -> str | None:
    """Why a free WxH is refused by the models that take one, or None when it is fine."""
    if width % limits.multiple or height % limits.multiple:
        return f"width and height must both be divisible by {limits.multiple}"
    if max(width, height) / min(width, height) > limits.max_aspect:
        return "the aspect ratio must be between 1:3 and 3:1"
    if max(width, height) > limits.max_edge or width * height > limits.max_pixels:
        return "the maximum supported resolution is 3840x2160"
    return None
