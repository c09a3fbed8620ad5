"""Emulator of Alibaba Cloud DashScope's image APIs (see `app.py`)."""

from mediarouter.sandbox.alibaba.app import DashScopeEmulator, Task, build_alibaba_emulator

__all__ = ["DashScopeEmulator", "Task", "build_alibaba_emulator"]
