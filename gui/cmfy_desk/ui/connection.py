"""The connections and output folder that the settings describe, as the engine takes them."""

from __future__ import annotations

from pathlib import Path

from cmfy_desk.app import SANDBOX_CONNECTION, ConnectionConfig, Engine
from cmfy_desk.connections import LEGACY_KEY_ACCOUNT, ConnectionList, with_secret
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.scheduler import SchedulerOptions
from cmfy_desk.settings import Settings

API_KEY_ACCOUNT = LEGACY_KEY_ACCOUNT


def connection_from_settings(
    settings: Settings, keystore: ApiKeyStore, *, force_sandbox: bool = False
) -> ConnectionConfig:
    """Build the default connection from the settings, with the cmfy.cloud key from the
    keyring.

    ``force_sandbox`` (demo mode) selects the built-in sandbox regardless of the settings.
    """
    plan = str(settings.get("sandbox.plan"))
    definitions_file = str(settings.get("workflows.definitions_file")).strip()
    status_mode = str(settings.get("connection.status_mode"))
    if force_sandbox or settings.get("connection.kind") == SANDBOX_CONNECTION:
        return ConnectionConfig(
            kind=SANDBOX_CONNECTION,
            plan=plan,
            sandbox_speed=float(settings.get("sandbox.speed")),
            definitions_file=definitions_file,
            status_mode=status_mode,
        )
    return ConnectionConfig(
        kind="cmfy",
        base_url=str(settings.get("connection.base_url")),
        api_key=keystore.get(API_KEY_ACCOUNT),
        definitions_file=definitions_file,
        status_mode=status_mode,
        public_base_url=str(settings.get("connection.public_base_url")).strip(),
    )


def connections_file(settings: Settings) -> Path:
    return settings.path.with_name("connections.json")


def saved_connections(settings: Settings, keystore: ApiKeyStore) -> list[ConnectionConfig]:
    """Return the named connections saved beside the settings, each with its secret."""
    saved = ConnectionList.load(connections_file(settings))
    return [with_secret(config, keystore) for config in saved.connections]


def webhook_port(settings: Settings, connections: list[ConnectionConfig]) -> int:
    """Return the receiver's port: the configured one when a tunnel forwards to it, else 0."""
    if any(config.public_base_url for config in connections):
        return int(settings.get("webhooks.port"))
    return 0


def output_root_from_settings(settings: Settings, default_output_dir: Path) -> Path:
    """Return the output folder setting, or ``default_output_dir`` when it is empty."""
    folder = str(settings.get("output.folder")).strip()
    return Path(folder).expanduser() if folder else default_output_dir


def engine_from_settings(
    database: Path,
    settings: Settings,
    keystore: ApiKeyStore,
    default_output_dir: Path,
    options: SchedulerOptions,
    *,
    demo: bool = False,
) -> Engine:
    """Build (without starting) the engine the settings describe: the default connection and,
    outside demo mode, the saved named ones."""
    config = connection_from_settings(settings, keystore, force_sandbox=demo)
    extras = [] if demo else saved_connections(settings, keystore)
    return Engine(
        database,
        output_root_from_settings(settings, default_output_dir),
        config,
        extra_connections=extras,
        options=options,
        webhook_port=webhook_port(settings, [config, *extras]),
    )
