"""Emulator of Runware's task API (see `app.py`)."""

from mediarouter.sandbox.runware.app import build_runware_emulator

__all__ = ["build_runware_emulator"]
