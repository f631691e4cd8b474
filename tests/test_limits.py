"""Limit headers, Retry-After forms and request pacing, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cmfy_desk.backends.limits import PLANS, Limits, RequestPacer, parse_retry_after

NOW = 1_800_000_000.0


def test_headers_update_every_field() -> None:
    limits = Limits.from_plan(PLANS["free"]).updated_from_headers(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "41",
            "X-RateLimit-Reset": "1800000060",
            "X-Concurrent-Limit": "10",
            "X-Concurrent-Current": "3",
            "X-Queue-Limit": "5",
            "X-Queue-Current": "1",
        },
        NOW,
    )
    assert limits.rate_limit == 300
    assert limits.rate_remaining == 41
    assert limits.rate_reset_at == 1_800_000_060
    assert limits.concurrent_limit == 10
    assert limits.concurrent_current == 3
    assert limits.queue_limit == 5
    assert limits.queue_current == 1


def test_bad_header_keeps_previous_value() -> None:
    limits = Limits.from_plan(PLANS["pro"]).updated_from_headers({"X-RateLimit-Limit": "lots"}, NOW)
    assert limits.rate_limit == 300


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("0", 0.0), ("Fri, 15 Jan 2027 08:00:10 GMT", 10.0), ("soon", None), (None, None)],
)
def test_retry_after_forms(value: str | None, seconds: float | None) -> None:
    now = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, now) == seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_pacer_holds_the_request_past_the_limit() -> None:
    clock = FakeClock()
    pacer = RequestPacer(Limits(rate_limit=3), clock=clock)
    for _ in range(3):
        assert pacer.delay_needed() == 0
        pacer._sent.append(clock())
        clock.now += 1
    assert pacer.delay_needed() == pytest.approx(57.0)
    clock.now = 60.0
    assert pacer.delay_needed() == 0


def test_pacer_honours_retry_after() -> None:
    clock = FakeClock()
    pacer = RequestPacer(Limits(rate_limit=100), clock=clock)
    pacer.block_for(12)
    assert pacer.delay_needed() == pytest.approx(12)
    clock.now = 12.5
    assert pacer.delay_needed() == 0


@given(
    limit=st.integers(min_value=1, max_value=30),
    gaps=st.lists(st.floats(min_value=0, max_value=10), min_size=1, max_size=120),
    blocks=st.lists(st.tuples(st.integers(0, 119), st.floats(0.5, 30)), max_size=3),
)
@settings(max_examples=200, deadline=None, derandomize=True)
@example(limit=1, gaps=[1.1, 0.0, 0.0, 0.0], blocks=[])
def test_pacer_never_exceeds_limit(
    limit: int, gaps: list[float], blocks: list[tuple[int, float]]
) -> None:
    """Whatever the arrival pattern and Retry-After holds, no 60 s window has more than
    ``limit`` requests and none is sent while held."""
    clock = FakeClock()
    pacer = RequestPacer(Limits(rate_limit=limit), clock=clock)
    held_until = 0.0
    sent: list[float] = []
    for index, gap in enumerate(gaps):
        clock.now += gap
        for block_index, seconds in blocks:
            if block_index == index:
                pacer.block_for(seconds)
                held_until = max(held_until, clock.now + seconds)
        # As RequestPacer.acquire does: wait until no delay is needed.
        while (delay := pacer.delay_needed()) > 0:
            clock.now += delay
        assert clock.now >= held_until
        pacer._sent.append(clock.now)
        sent.append(clock.now)
    for start in sent:
        in_window = [moment for moment in sent if start <= moment < start + 60]
        assert len(in_window) <= limit
