"""Emulators of Google's Gemini API and Vertex AI image surfaces (see `app.py`)."""

from mediarouter.sandbox.google.app import build_gemini_emulator, build_vertex_emulator

__all__ = ["build_gemini_emulator", "build_vertex_emulator"]
