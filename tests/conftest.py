import os

# Qt aborts without a display unless this is set before anything imports it.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import gc
from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "qt_loop: run this async test on a qasync loop over the QApplication"
    )


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> object:
    if item.get_closest_marker("qt_loop"):
        import qasync
        from PySide6.QtWidgets import QApplication

        return {"qasync": lambda: qasync.QEventLoop(QApplication.instance() or QApplication([]))}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(autouse=True)
def _collect_qt_garbage(request: pytest.FixtureRequest) -> Iterator[None]:
    """Collect the garbage of a test on the Qt loop before the next test starts.

    Each such test closes its own qasync loop, whose timer object is a QObject. Left to the
    cyclic garbage collector, it can be destroyed later on whichever thread triggers a
    collection, such as a download or render worker. A QObject destroyed off its thread
    leaves its timers registered, and the next timer event then crashes the process.
    """
    yield
    if request.node.get_closest_marker("qt_loop"):
        gc.collect()


@pytest.fixture
def bundled_workflow_paths() -> list:
    from cmfy_desk.paths import bundled_workflows

    paths = bundled_workflows()
    assert len(paths) >= 3
    return paths
