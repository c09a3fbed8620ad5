from __future__ import annotations

import asyncio

from mediarouter.sandbox.files import FileShelf


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_files_live_until_their_ttl() -> None:
    clock = Clock()
    shelf = FileShelf(60, clock)
    name = shelf.put(b"png bytes", "image/png", "png")
    assert name.endswith(".png")
    assert asyncio.run(shelf.read(name)) == (b"png bytes", "image/png")
    clock.now += 59
    assert asyncio.run(shelf.read(name)) is not None
    clock.now += 2
    assert asyncio.run(shelf.read(name)) is None
    assert len(shelf) == 0


def test_recipes_render_on_download() -> None:
    calls: list[int] = []

    async def recipe() -> bytes:
        calls.append(1)
        return b"drawn"

    shelf = FileShelf(60)
    name = shelf.put(recipe, "image/png", "png")
    assert calls == []
    assert asyncio.run(shelf.read(name)) == (b"drawn", "image/png")
    assert calls == [1]


def test_names_are_unique_and_unknown_names_are_absent() -> None:
    shelf = FileShelf(60)
    assert shelf.put(b"a", "image/png", "png") != shelf.put(b"a", "image/png", "png")
    assert asyncio.run(shelf.read("img-nope.png")) is None


def test_expired_files_are_pruned_when_new_ones_arrive() -> None:
    clock = Clock()
    shelf = FileShelf(10, clock)
    for _ in range(5):
        shelf.put(b"x", "image/png", "png")
    clock.now += 11
    shelf.put(b"y", "image/png", "png")
    assert len(shelf) == 1
