"""mediarouter: one OpenAI-compatible API and one key for AI image (and text) models across providers."""

__version__ = "0.1.0"
