"""Emulator of Replicate's predictions API (see `app.py`)."""

from mediarouter.sandbox.replicate.app import build_replicate_emulator

__all__ = ["build_replicate_emulator"]
