"""The job table's columns beside the job details panel in the real main window: which
columns fit at common window widths, and what happens after a person resizes a column."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmfy_desk.ui.job_model import Column
from cmfy_desk.ui.job_table import (
    COLUMN_WIDTHS,
    LAST_FITTED_COLUMN,
    NAME_COLUMNS,
    NAME_MIN_WIDTH,
    JobTableView,
    fitted_name_widths,
)
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.queue_area import DETAILS_WIDTH
from tests.test_queue_window import queue_window, queue_workflow, select_jobs
from tests.test_window import wait_for

# Columns a person reads for a queued or running job, which must not hide behind the
# horizontal scroll bar.
QUEUE_COLUMNS = (Column.STATUS, Column.PRIORITY, Column.QUEUE_POSITION, Column.PROGRESS)


def hidden_columns(table: JobTableView, columns: tuple[Column, ...]) -> list[str]:
    """Return a description of each of ``columns`` that is not wholly inside the viewport."""
    header = table.horizontalHeader()
    width = table.viewport().width()
    hidden = []
    for column in columns:
        left = header.sectionViewportPosition(column)
        right = left + header.sectionSize(column)
        if left < 0 or right > width:
            hidden.append(f"{column.name} at {left}..{right} of {width} px")
    return hidden


async def show_selected_job(window: MainWindow, width: int) -> None:
    """Queue a batch, resize the window to ``width`` x 800 and select the first job, so that
    the details panel shows beside the table."""
    job_ids = await queue_workflow(window, 6)
    window.resize(width, 800)
    select_jobs(window, job_ids[:1])
    # The splitter spans the window once the layout has followed the resize.
    await wait_for(
        lambda: window.job_details.isVisible() and window.queue_splitter.width() == width,
        description="the details panel beside the table",
    )


# Fitting the name columns ----------------------------------------------------------------------


def test_fitted_widths_preferred_when_room() -> None:
    wide = sum(COLUMN_WIDTHS[column] for column in Column if column <= LAST_FITTED_COLUMN)

    assert fitted_name_widths(wide) == {column: COLUMN_WIDTHS[column] for column in NAME_COLUMNS}
    assert fitted_name_widths(wide + 500) == fitted_name_widths(wide)


def fixed_width() -> int:
    """Return the width of the columns up to LAST_FITTED_COLUMN that do not narrow."""
    return sum(
        COLUMN_WIDTHS[column]
        for column in Column
        if column <= LAST_FITTED_COLUMN and column not in NAME_COLUMNS
    )


def test_fitted_widths_fill_narrow_table() -> None:
    width = 880

    widths = fitted_name_widths(width)

    assert fixed_width() + sum(widths.values()) == width
    # Every name column is cut to the same width, give or take a rounding pixel.
    assert max(widths.values()) - min(widths.values()) <= 1
    assert min(widths.values()) > NAME_MIN_WIDTH


def test_fitted_widths_cut_widest_first() -> None:
    workflow = COLUMN_WIDTHS[Column.WORKFLOW]
    width = fixed_width() + workflow + 2 * (workflow + 10)

    widths = fitted_name_widths(width)

    assert widths[Column.WORKFLOW] == workflow
    assert widths[Column.BATCH] == workflow + 10
    assert widths[Column.MODELS] == workflow + 10


def test_fitted_widths_stop_at_minimum() -> None:
    widths = fitted_name_widths(100)

    assert widths == {column: NAME_MIN_WIDTH for column in NAME_COLUMNS}


# The real window -------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.qt_loop
@pytest.mark.parametrize("width", [1200, 1400])
async def test_queue_columns_visible_beside_details(tmp_path: Path, width: int) -> None:
    async with queue_window(tmp_path) as window:
        await show_selected_job(window, width)
        table = window.job_table

        assert window.queue_splitter.sizes()[1] >= DETAILS_WIDTH - 1
        assert hidden_columns(table, QUEUE_COLUMNS) == []
        assert table.horizontalScrollBar().value() == 0
        for column in NAME_COLUMNS:
            assert table.columnWidth(column) >= NAME_MIN_WIDTH, column.name


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_wide_window_keeps_preferred_widths(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        await show_selected_job(window, 1800)

        for column in NAME_COLUMNS:
            assert window.job_table.columnWidth(column) == COLUMN_WIDTHS[column], column.name
        assert hidden_columns(window.job_table, QUEUE_COLUMNS) == []


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_resized_column_stays(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        await show_selected_job(window, 1200)
        table = window.job_table
        narrowed = table.columnWidth(Column.BATCH)

        # What dragging the header's handle does.
        table.horizontalHeader().resizeSection(Column.BATCH, 300)
        window.resize(1600, 800)
        await wait_for(
            lambda: window.queue_splitter.width() == 1600, description="the wider window"
        )

        assert narrowed < 300
        assert not table.fits_columns
        assert table.columnWidth(Column.BATCH) == 300
        assert table.columnWidth(Column.WORKFLOW) < COLUMN_WIDTHS[Column.WORKFLOW]
