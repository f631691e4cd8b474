"""Garbage collection from the Qt thread: which generation a check collects, and when."""

from __future__ import annotations

import gc

import pytest

from cmfy_desk.ui import collector as collector_module
from cmfy_desk.ui.collector import FULL_COLLECTION_INTERVAL_S, MainThreadCollector


class FakeGc:
    """Counts and collections of the garbage collector, as a check reads them."""

    def __init__(self) -> None:
        self.counts = (0, 0, 0)
        self.collected: list[int] = []

    def collect(self, generation: int = 2) -> int:
        self.collected.append(generation)
        return 0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeGc, list[float]]:
    fake_gc = FakeGc()
    clock = [1000.0]
    monkeypatch.setattr(collector_module.gc, "get_count", lambda: fake_gc.counts)
    monkeypatch.setattr(collector_module.gc, "get_threshold", lambda: (700, 10, 10))
    monkeypatch.setattr(collector_module.gc, "collect", fake_gc.collect)
    monkeypatch.setattr(collector_module.time, "monotonic", lambda: clock[0])
    return fake_gc, clock


def test_full_collection_waits_for_its_interval(fake: tuple[FakeGc, list[float]]) -> None:
    fake_gc, clock = fake
    collector = MainThreadCollector()
    fake_gc.counts = (800, 11, 11)

    collector.check()
    clock[0] += FULL_COLLECTION_INTERVAL_S
    collector.check()
    collector.check()

    # Before the interval the middle generation is collected instead; after it, a full one.
    assert fake_gc.collected == [1, 2, 1]


def test_young_generation_collected_at_its_threshold(fake: tuple[FakeGc, list[float]]) -> None:
    fake_gc, _clock = fake
    collector = MainThreadCollector()

    fake_gc.counts = (500, 0, 0)
    collector.check()
    fake_gc.counts = (701, 0, 0)
    collector.check()

    assert fake_gc.collected == [0]


def test_stop_restores_automatic_collection() -> None:
    was_enabled = gc.isenabled()
    collector = MainThreadCollector()
    collector.start()
    collector.freeze()
    frozen = gc.get_freeze_count()
    disabled_while_running = not gc.isenabled()

    collector.stop()

    assert disabled_while_running
    assert frozen > 0
    assert gc.get_freeze_count() == 0
    assert gc.isenabled() == was_enabled
