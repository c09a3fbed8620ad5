"""Emulator of the OpenAI Images API (see `app.py`)."""

from mediarouter.sandbox.openai.app import build_openai_emulator

__all__ = ["build_openai_emulator"]
