"""Read commands pointed at a data folder without a database: an error that names the folder,
exit status 2, and nothing created on disk. ``index add`` still starts a new data folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmfy_desk import paths
from cmfy_desk.cli import main
from cmfy_desk.paths import (
    DATA_DIR_ENV,
    NoDatabaseError,
    bundled_workflows,
    existing_paths,
    locate_paths,
)
from cmfy_desk.store import Store
from tests.test_library_cli import _cmfy_desk

READ_COMMANDS = [
    ["history"],
    ["history", "prune", "--older-than", "30", "--yes"],
    ["search", "fox"],
    ["index", "list"],
    ["index", "scan"],
    ["metrics"],
    ["queue", "export", "queued-jobs.json"],
]


@pytest.fixture
def user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the platform's user folders into ``tmp_path / "user"``, which does not exist yet,
    and remove CMFY_DESK_DATA_DIR, so commands use the default data folder."""
    user = tmp_path / "user"
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    for function, folder in (
        ("user_data_dir", "data"),
        ("user_log_dir", "log"),
        ("user_cache_dir", "cache"),
    ):
        monkeypatch.setattr(
            paths.platformdirs,
            function,
            lambda *args, folder=folder, **kwargs: str(user / folder / args[0]),
        )
    monkeypatch.setattr(paths.platformdirs, "user_pictures_dir", lambda: str(user / "Pictures"))
    return user


@pytest.fixture
def app_logging() -> Iterator[None]:
    """Remove the log handlers that an in-process command adds to the root logger."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cmfy_desk", False):
            root.removeHandler(handler)
            handler.close()


@pytest.mark.usefixtures("app_logging")
@pytest.mark.parametrize("args", READ_COMMANDS)
def test_unused_default_folder_exits_2(
    user_folders: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(args)
    captured = capsys.readouterr()

    data_dir = user_folders / "data" / "cmfy-desk"
    assert status == 2
    assert f"error: no Cmfy Desk database in {data_dir} (the folder does not exist)." in (
        captured.err
    )
    assert "Start Cmfy Desk once to create it" in captured.err
    assert captured.out == ""
    assert not user_folders.exists()


@pytest.mark.parametrize("args", READ_COMMANDS)
def test_environment_folder_named_in_error(tmp_path: Path, args: list[str]) -> None:
    typo = tmp_path / "cmfy-dsk"
    result = _cmfy_desk(*args, data_dir=None, env={DATA_DIR_ENV: str(typo)})

    assert result.returncode == 2
    assert f"no Cmfy Desk database in {typo}" in result.stderr
    assert f"Check the environment variable {DATA_DIR_ENV}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_folder_without_database_left_unchanged(tmp_path: Path) -> None:
    # A real folder that is not a data folder, such as the home folder typed by mistake.
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")

    for args in READ_COMMANDS:
        result = _cmfy_desk(*args, data_dir=folder)
        assert result.returncode == 2, args
        assert f"error: no Cmfy Desk database in {folder}. Check --data-dir" in result.stderr
        assert "does not exist" not in result.stderr
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]


def test_index_add_starts_new_data_folder(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    data = tmp_path / "new data"

    added = _cmfy_desk("index", "add", str(images), data_dir=data)
    listed = _cmfy_desk("index", "list", data_dir=data)

    assert added.returncode == 0, added.stderr
    assert (data / "cmfy-desk.sqlite3").is_file()
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"{images.resolve()}: 0 indexed")


def test_existing_paths_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with pytest.raises(NoDatabaseError) as raised:
        existing_paths(data)
    assert raised.value.paths == locate_paths(data)
    assert not data.exists()

    Store.open(data / "cmfy-desk.sqlite3").close()
    found = existing_paths(data)
    assert found.database == data / "cmfy-desk.sqlite3"
    assert not found.log_dir.exists()
    assert not found.thumbnail_dir.exists()


def test_check_uses_the_starting_library_without_creating_one(tmp_path: Path) -> None:
    workflow = next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    typo = tmp_path / "cmfy-dsk"

    result = _cmfy_desk("check", str(workflow), "--json", data_dir=typo)

    assert result.returncode in (0, 1), result.stderr
    assert "warning: no model library" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_queue_import_starts_new_data_folder(tmp_path: Path) -> None:
    source = tmp_path / "source"
    Store.open(source / "cmfy-desk.sqlite3").close()
    exported = _cmfy_desk("queue", "export", str(tmp_path / "queue.json"), data_dir=source)
    data = tmp_path / "new data"

    imported = _cmfy_desk("queue", "import", str(tmp_path / "queue.json"), data_dir=data)

    assert exported.returncode == 0, exported.stderr
    assert imported.returncode == 0, imported.stderr
    assert (data / "cmfy-desk.sqlite3").is_file()
