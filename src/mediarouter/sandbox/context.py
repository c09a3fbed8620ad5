"""What every emulator is built from: the shared fault book, the renderer and the settings.

An emulator is a function `EmulatorContext -> Starlette`, registered in `sandbox/app.py:EMULATORS`.
It calls `context.book.hit(<slug>, model)` once per API request (after its own auth check), hands
the fault to `injection.apply_fault` with its dialect, and draws with `context.renderer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette

from mediarouter.sandbox.faults import FaultBook
from mediarouter.sandbox.images import ImageRenderer
from mediarouter.settings import EmulatorSettings


@dataclass(frozen=True)
class EmulatorContext:
    book: FaultBook
    renderer: ImageRenderer
    settings: EmulatorSettings


EmulatorBuilder = Callable[[EmulatorContext], Starlette]
