"""The declared settings table and its JSON file, and the folders the settings file lives in."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from cmfy_desk.paths import DATA_DIR_ENV, resolve_paths
from cmfy_desk.settings import SETTINGS, Settings

API_KEY = "sk_test_" + "A1b2C3d4E5" * 4 + "xyz"


def read(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def test_table_defaults_are_valid() -> None:
    for setting in SETTINGS:
        assert isinstance(setting.default, setting.type), setting.key
        if setting.choices is not None:
            assert setting.default in setting.choices, setting.key
        assert setting.help, setting.key


def test_table_keys_unique() -> None:
    keys = [setting.key for setting in SETTINGS]
    assert len(keys) == len(set(keys))


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    assert settings.get("connection.kind") == "sandbox"
    assert settings.get("connection.base_url") == "https://api.cmfy.cloud"
    assert settings.get("batch.count") == 4
    assert settings.get("batch.seed_mode") == "random"
    assert settings.get("sandbox.speed") == 5.0
    assert settings.get("output.folder") == ""


def test_set_save_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(path)
    settings.set("batch.count", 12)
    settings.set("connection.kind", "cmfy")
    settings.set("sandbox.speed", 2)
    settings.save()

    reloaded = Settings(path)
    assert reloaded.get("batch.count") == 12
    assert reloaded.get("connection.kind") == "cmfy"
    assert reloaded.get("sandbox.speed") == 2.0
    assert isinstance(reloaded.get("sandbox.speed"), float)


def test_save_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(path)
    settings.set("window.state", "AAAA")
    settings.save()
    settings.save()
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["settings.json"]


def test_save_creates_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.json"
    Settings(path).save()
    assert read(path) == {}


def test_unknown_keys_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"future.feature": [1, 2], "batch.count": 3}), encoding="utf-8")
    settings = Settings(path)
    settings.set("batch.count", 5)
    settings.save()
    assert read(path) == {"future.feature": [1, 2], "batch.count": 5}


def test_corrupt_file_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"batch.count": 3', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="cmfy_desk.settings"):
        settings = Settings(path)
    assert settings.get("batch.count") == 4
    assert not path.exists()
    assert (tmp_path / "settings.json.bad").read_text(encoding="utf-8") == '{"batch.count": 3'
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "settings.json.bad" in caplog.text


def test_non_object_file_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "settings.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="cmfy_desk.settings"):
        settings = Settings(path)
    assert settings.get("connection.kind") == "sandbox"
    assert (tmp_path / "settings.json.bad").exists()
    assert "not an object" in caplog.text


def test_binary_file_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"\xff\xfe\x00junk")
    with caplog.at_level(logging.WARNING, logger="cmfy_desk.settings"):
        settings = Settings(path)
    assert settings.get("batch.count") == 4
    assert (tmp_path / "settings.json.bad").exists()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("batch.count", "4"),
        ("batch.count", True),
        ("batch.count", 0),
        ("batch.count", 2.5),
        ("connection.kind", "local"),
        ("batch.seed_mode", 3),
        ("sandbox.speed", -1.0),
        ("sandbox.plan", None),
    ],
)
def test_bad_value_in_file_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key: str, value: object
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({key: value, "window.geometry": "AbC="}), encoding="utf-8")
    defaults = Settings(tmp_path / "none.json")
    with caplog.at_level(logging.WARNING, logger="cmfy_desk.settings"):
        settings = Settings(path)
    assert settings.get(key) == defaults.get(key)
    assert settings.get("window.geometry") == "AbC="
    assert key in caplog.text
    assert path.exists()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("batch.count", "many", "expected int"),
        ("batch.count", False, "expected int"),
        ("batch.count", 10_001, "at most 10000"),
        ("connection.kind", "comfyui", "one of sandbox, cmfy"),
        ("sandbox.speed", "fast", "expected float"),
        ("sandbox.speed", float("nan"), "NaN"),
        ("output.folder", 5, "expected str"),
    ],
)
def test_set_rejects_bad_value(tmp_path: Path, key: str, value: object, expected: str) -> None:
    settings = Settings(tmp_path / "settings.json")
    with pytest.raises(ValueError, match=expected) as caught:
        settings.set(key, value)
    assert key in str(caught.value)


def test_set_rejects_api_key(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    with pytest.raises(ValueError, match="keyring") as caught:
        settings.set("connection.base_url", API_KEY)
    assert API_KEY not in str(caught.value)


def test_unknown_key_raises(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    with pytest.raises(KeyError, match=r"no\.such"):
        settings.get("no.such")
    with pytest.raises(KeyError, match=r"no\.such"):
        settings.set("no.such", 1)


def test_paths_inside_data_dir(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "data")
    assert paths.data_dir == tmp_path / "data"
    assert paths.settings_file == tmp_path / "data" / "settings.json"
    assert paths.database == tmp_path / "data" / "cmfy-desk.sqlite3"
    assert paths.log_dir == tmp_path / "data" / "logs"
    assert paths.thumbnail_dir == tmp_path / "data" / "thumbnails"
    assert paths.default_output_dir == tmp_path / "data" / "outputs"
    assert paths.log_dir.is_dir()
    assert paths.thumbnail_dir.is_dir()
    assert not paths.default_output_dir.exists()


def test_paths_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert resolve_paths().data_dir == tmp_path / "env"
    assert resolve_paths(tmp_path / "arg").data_dir == tmp_path / "arg"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses XDG variables")
def test_paths_default_to_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "Pictures"))
    paths = resolve_paths()
    assert paths.data_dir == tmp_path / "xdg_data_home" / "cmfy-desk"
    assert paths.thumbnail_dir == tmp_path / "xdg_cache_home" / "cmfy-desk" / "thumbnails"
    assert paths.log_dir.is_relative_to(tmp_path / "xdg_state_home")
    assert paths.default_output_dir == tmp_path / "Pictures" / "Cmfy Desk"
