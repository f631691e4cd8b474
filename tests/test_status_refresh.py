"""The status bar's figures follow the jobs, over a real engine and the built-in sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmfy_desk.store import JobStatus
from cmfy_desk.ui import main_window
from cmfy_desk.ui.main_window import MainWindow
from tests.test_window import open_window, queue_sample, statuses, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]


def current_limits_text(window: MainWindow) -> str:
    """Return the limits label's text for the engine's figures at this moment."""
    assert window.engine is not None
    status = window.engine.status()
    return (
        f"{status.running}/{status.running_limit} running · "
        f"{status.requests_last_minute}/{status.rate_limit} req/min"
    )


async def test_last_job_end_refreshes_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The periodic refresh is a minute away, so only the jobs' own changes update the label.
    monkeypatch.setattr(main_window, "STATUS_REFRESH_MS", 60_000)
    async with open_window(tmp_path) as window:
        engine = window.engine
        assert engine is not None
        before = window.limits_label.text()
        await queue_sample(window, 4)
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 4, description="4 succeeded jobs"
        )
        status = engine.status()
        await wait_for(
            lambda: window.limits_label.text() == current_limits_text(window),
            timeout=2.0,
            description="the limits label to show the engine's figures",
        )
        after = window.limits_label.text()

    assert before == "0/2 running · 0/60 req/min"
    assert status.in_flight == 0
    assert status.running == 0
    assert status.requests_last_minute > 0
    assert after.startswith("0/2 running · ")
