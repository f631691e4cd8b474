"""The connection and output folder that the settings describe, as the engine takes them."""

from __future__ import annotations

from pathlib import Path

from cmfy_desk.app import SANDBOX_CONNECTION, ConnectionConfig
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.settings import Settings

API_KEY_ACCOUNT = "cmfy"


def connection_from_settings(
    settings: Settings, keystore: ApiKeyStore, *, force_sandbox: bool = False
) -> ConnectionConfig:
    """Build the connection from the settings, with the cmfy.cloud key from the keyring.

    ``force_sandbox`` (demo mode) selects the built-in sandbox regardless of the settings.
    """
    plan = str(settings.get("sandbox.plan"))
    definitions_file = str(settings.get("workflows.definitions_file")).strip()
    if force_sandbox or settings.get("connection.kind") == SANDBOX_CONNECTION:
        return ConnectionConfig(
            kind=SANDBOX_CONNECTION,
            plan=plan,
            sandbox_speed=float(settings.get("sandbox.speed")),
            definitions_file=definitions_file,
        )
    return ConnectionConfig(
        kind="cmfy",
        base_url=str(settings.get("connection.base_url")),
        api_key=keystore.get(API_KEY_ACCOUNT),
        definitions_file=definitions_file,
    )


def output_root_from_settings(settings: Settings, default_output_dir: Path) -> Path:
    """Return the output folder setting, or ``default_output_dir`` when it is empty."""
    folder = str(settings.get("output.folder")).strip()
    return Path(folder).expanduser() if folder else default_output_dir
