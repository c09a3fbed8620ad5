"""Value types of the extra fields adapters forward (`seed`, `enable_safety_checker`...).

Which provider forwards which field is each adapter's own table (`providers/registry.py`,
`ACCEPTED_EXTRAS`); this table only says what kind of value each one is, for the model schema.
A forwarded field missing here is described as `any` rather than left out: add it here.
"""

from __future__ import annotations

EXTRA_TYPES: dict[str, str] = {
    "seed": "integer",
    "negative_prompt": "string",
    "guidance_scale": "number",
    "cfg_scale": "number",
    "strength": "number",
    "num_inference_steps": "integer",
    "steps": "integer",
    "safety_tolerance": "integer",
    "scheduler": "string",
    "acceleration": "string",
    "megapixels": "string",
    "enable_safety_checker": "boolean",
    "safety_check": "boolean",
    "raw": "boolean",
    "sync_mode": "boolean",
    "go_fast": "boolean",
    "prompt_upsampling": "boolean",
    "prompt_extend": "boolean",
}
