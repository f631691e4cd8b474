"""Moving gallery images to the freedesktop.org home trash on an account without one.

HOME and XDG_DATA_HOME point into tmp_path, and QStandardPaths reads them at each call, so
QFile.moveToTrash() uses a trash on the same drive as the test's images.
"""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from cmfy_desk.store import ImageData, ImageQuery, ImageRecord, ImageSource, Store
from cmfy_desk.ui.gallery import GalleryPanel
from cmfy_desk.ui.trash import ensure_home_trash, uses_freedesktop_trash

pytestmark = pytest.mark.skipif(
    not uses_freedesktop_trash(), reason="the freedesktop.org trash is used on Linux and BSD"
)

WAIT_MS = 10_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def image(store: Store, tmp_path: Path) -> ImageRecord:
    """Index one real PNG file in ``store``."""
    path = tmp_path / "library" / "castle.png"
    path.parent.mkdir()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(path, format="PNG")
    store.gallery.upsert(
        [
            ImageData(
                path=str(path),
                source=ImageSource.FOLDER,
                created_at=1_800_000_000.0,
                prompt="castle in fog",
                width=64,
                height=48,
                file_size=path.stat().st_size,
            )
        ]
    )
    [record] = store.gallery.search(ImageQuery(), limit=10)
    return record


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path, store: Store, image: ImageRecord) -> Iterator[GalleryPanel]:
    widget = GalleryPanel(tmp_path / "thumbnails")
    qtbot.addWidget(widget)
    widget.attach(store)
    qtbot.waitUntil(lambda: not widget.model.searching, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 1, timeout=WAIT_MS)
    yield widget
    widget.shutdown()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder, without ``.local/share``."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("data_home_set", [False, True], ids=["default", "XDG_DATA_HOME"])
def test_trash_creates_missing_home_trash(
    panel: GalleryPanel,
    image: ImageRecord,
    store: Store,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    data_home_set: bool,
) -> None:
    data_home = home / ".local" / "share"
    if data_home_set:
        data_home = home / "data" / "user"
        monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    trash = data_home / "Trash"
    source = Path(image.path)
    content = source.read_bytes()
    notices: list[str] = []
    panel.noticeRequested.connect(lambda _level, text: notices.append(text))

    moved = panel.image_actions.trash([image], keep_records=False)

    assert notices == []
    assert moved == [image.id]
    assert not source.exists()
    assert (trash / "files" / "castle.png").read_bytes() == content
    info = (trash / "info" / "castle.png.trashinfo").read_text(encoding="utf-8")
    assert info.startswith("[Trash Info]\n")
    assert f"Path={source}\n" in info
    assert mode(trash) == 0o700
    assert mode(data_home) == 0o700
    assert mode(data_home.parent) == 0o700
    assert panel.model.rowCount() == 0
    with pytest.raises(KeyError):
        store.gallery.get(image.id)


def test_trash_keeps_existing_home_trash(
    panel: GalleryPanel, image: ImageRecord, home: Path
) -> None:
    trash = home / ".local" / "share" / "Trash"
    (trash / "files").mkdir(parents=True)
    (trash / "info").mkdir()
    (trash / "files" / "older.png").write_bytes(b"trashed earlier")

    moved = panel.image_actions.trash([image], keep_records=True)

    assert moved == [image.id]
    assert sorted(path.name for path in (trash / "files").iterdir()) == ["castle.png", "older.png"]
    assert (trash / "files" / "older.png").read_bytes() == b"trashed earlier"


def test_trash_failure_keeps_file_and_message(
    panel: GalleryPanel,
    image: ImageRecord,
    store: Store,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "data"))
    notices: list[str] = []
    panel.noticeRequested.connect(lambda _level, text: notices.append(text))

    moved = panel.image_actions.trash([image], keep_records=False)

    assert moved == []
    assert Path(image.path).is_file()
    assert store.gallery.get(image.id).path == image.path
    assert len(notices) == 1
    assert notices[0].startswith(f"Moving 1 image to the trash failed: {image.path}.")
    assert "that the drive has a trash folder" in notices[0]


def test_home_trash_untouched_on_macos(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")

    assert ensure_home_trash() is None
    assert list(home.iterdir()) == []
