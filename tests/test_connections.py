"""Saved named connections: validation, the file beside the settings, secrets in the keyring."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from cmfy_desk.connections import (
    COMFYUI,
    ConnectionConfig,
    ConnectionList,
    InvalidConnection,
    check_connection,
    secret_account,
    with_secret,
)
from cmfy_desk.keystore import ApiKeyStore


def _comfy(name: str = "studio", url: str = "http://127.0.0.1:8188") -> ConnectionConfig:
    return ConnectionConfig(kind=COMFYUI, name=name, base_url=url)


def test_saved_connections_survive_a_reload_without_their_secret(tmp_path: Path) -> None:
    path = tmp_path / "connections.json"
    saved = ConnectionList.load(path)
    saved.put(
        ConnectionConfig(
            kind="cmfy",
            name="work account",
            base_url="https://api.cmfy.cloud",
            api_key="sk_test_" + "a" * 43,
            status_mode="webhook",
            public_base_url="https://tunnel.example.test",
        )
    )
    saved.put(_comfy())
    saved.save()

    assert "sk_test_" not in path.read_text(encoding="utf-8")
    again = ConnectionList.load(path)
    assert [config.name for config in again.connections] == ["work account", "studio"]
    account = again.get("WORK ACCOUNT")
    assert account is not None
    assert account.api_key is None
    assert account.public_base_url == "https://tunnel.example.test"
    assert account.label == "work account"


def test_renamed_connection_replaces_entry(tmp_path: Path) -> None:
    saved = ConnectionList.load(tmp_path / "connections.json")
    saved.put(_comfy("studio"))
    saved.put(_comfy("studio 2", "http://127.0.0.1:8189"), replacing="studio")
    assert [config.name for config in saved.connections] == ["studio 2"]


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (_comfy(url="ftp://host"), "not an http"),
        (ConnectionConfig(kind="grid", name="x"), "Unknown connection kind"),
        (ConnectionConfig(kind="cmfy", name="x", status_mode="webhook"), "no public base URL"),
        (ConnectionConfig(kind=COMFYUI, name="a/b"), "not allowed"),
        (ConnectionConfig(kind=COMFYUI, name="x", auth_header_name="X-Key: v"), "colon"),
    ],
)
def test_invalid_connections_are_explained(config: ConnectionConfig, fragment: str) -> None:
    problem = check_connection(config)
    assert problem is not None and fragment in problem


def test_names_must_be_unique_and_not_reserved(tmp_path: Path) -> None:
    saved = ConnectionList.load(tmp_path / "connections.json")
    saved.put(_comfy("studio"))
    with pytest.raises(InvalidConnection, match="exists already"):
        saved.put(_comfy("Studio", "http://127.0.0.1:9000"), replacing="other")
    with pytest.raises(InvalidConnection, match="default connection"):
        saved.put(_comfy("sandbox"))


def test_damaged_file_keeps_good_entries(
    tmp_path: Path,
) -> None:
    path = tmp_path / "connections.json"
    path.write_text("{not json", encoding="utf-8")
    assert ConnectionList.load(path).connections == []
    path.write_text(
        json.dumps(
            {
                "connections": [
                    {"kind": COMFYUI, "name": "ok", "base_url": "http://127.0.0.1:8188"},
                    {"kind": COMFYUI, "name": "bad", "base_url": "nowhere"},
                    {"kind": COMFYUI, "base_url": "http://127.0.0.1:8188"},
                    "junk",
                ]
            }
        ),
        encoding="utf-8",
    )
    assert [config.name for config in ConnectionList.load(path).connections] == ["ok"]


def test_each_connection_reads_its_own_secret() -> None:
    previous = keyring.get_keyring()
    # Without a keyring the store keeps secrets in memory, which is all this test needs.
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        keystore = ApiKeyStore()
        keystore.set(secret_account("studio"), "token-123")
        assert with_secret(_comfy("studio"), keystore).api_key == "token-123"
        assert with_secret(_comfy("other"), keystore).api_key is None
    finally:
        keyring.set_keyring(previous)
