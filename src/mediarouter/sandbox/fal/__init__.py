"""Emulator of fal.ai's queue and sync hosts (see `app.py`)."""

from mediarouter.sandbox.fal.app import build_fal_emulator

__all__ = ["build_fal_emulator"]
