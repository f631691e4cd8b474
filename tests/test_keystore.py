"""API keys in the OS keyring, the session-only fallback, and the key format check."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from keyring.compat import properties

from cmfy_desk.keystore import SERVICE_NAME, ApiKeyStore, validate_api_key

LIVE_KEY = "sk_live_" + "Ab3dEf6hIj" * 4 + "XyZ"
TEST_KEY = "sk_test_" + "0123456789" * 4 + "abc"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend that keeps passwords in a dict, for tests only."""

    @properties.classproperty
    def priority(cls) -> float:
        # Raising makes the class not viable, so keyring never picks it as a default backend.
        raise RuntimeError("test backend, set explicitly with keyring.set_keyring")

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.passwords[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_set_saves_in_keyring(memory_keyring: MemoryKeyring) -> None:
    store = ApiKeyStore()
    assert store.set("default", LIVE_KEY) is True
    assert memory_keyring.passwords == {(SERVICE_NAME, "default"): LIVE_KEY}
    assert store.session_only is False


def test_get_reads_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.passwords[(SERVICE_NAME, "studio")] = TEST_KEY
    store = ApiKeyStore()
    assert store.get("studio") == TEST_KEY
    assert store.get("other") is None


def test_delete_removes_key(memory_keyring: MemoryKeyring) -> None:
    store = ApiKeyStore()
    store.set("default", LIVE_KEY)
    store.delete("default")
    assert store.get("default") is None
    assert memory_keyring.passwords == {}


def test_delete_missing_key_is_quiet(memory_keyring: MemoryKeyring) -> None:
    store = ApiKeyStore()
    store.delete("never-set")
    assert store.session_only is False
    assert store.take_notice() is None


def test_empty_key_rejected(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(ValueError, match="empty"):
        ApiKeyStore().set("default", "")


def test_no_keyring_keeps_key_in_memory(no_keyring: None, caplog: pytest.LogCaptureFixture) -> None:
    store = ApiKeyStore()
    with caplog.at_level(logging.WARNING, logger="cmfy_desk.keystore"):
        saved = store.set("default", LIVE_KEY)
        second = store.set("other", TEST_KEY)
    assert saved is False
    assert second is False
    assert store.session_only is True
    assert store.get("default") == LIVE_KEY
    assert store.get("other") == TEST_KEY
    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.WARNING
    assert LIVE_KEY not in caplog.text
    assert TEST_KEY not in caplog.text


def test_no_keyring_get_falls_back(no_keyring: None, caplog: pytest.LogCaptureFixture) -> None:
    store = ApiKeyStore()
    with caplog.at_level(logging.WARNING, logger="cmfy_desk.keystore"):
        assert store.get("default") is None
    assert store.session_only is True
    assert "NoKeyringError" in caplog.text


def test_no_keyring_delete_forgets(no_keyring: None) -> None:
    store = ApiKeyStore()
    store.set("default", LIVE_KEY)
    store.delete("default")
    assert store.get("default") is None


def test_notice_given_once(no_keyring: None) -> None:
    store = ApiKeyStore()
    store.set("default", LIVE_KEY)
    notice = store.take_notice()
    assert notice is not None
    assert notice.startswith("No secure key store is available on this system")
    assert "session only" in notice
    assert store.take_notice() is None


def test_no_notice_with_keyring(memory_keyring: MemoryKeyring) -> None:
    store = ApiKeyStore()
    store.set("default", LIVE_KEY)
    assert store.take_notice() is None


def test_test_backend_not_viable() -> None:
    # keyring registers every backend subclass; a non-viable one is never chosen by default.
    assert MemoryKeyring.viable is False


@pytest.mark.parametrize("api_key", [LIVE_KEY, TEST_KEY])
def test_valid_key_accepted(api_key: str) -> None:
    assert len(api_key) == 51
    assert validate_api_key(api_key) is None


@pytest.mark.parametrize(
    ("api_key", "expected"),
    [
        ("", "empty"),
        (" " + LIVE_KEY, "spaces"),
        (LIVE_KEY + "\n", "spaces"),
        ("pk_live_" + LIVE_KEY[8:], "must start with sk_live_ or sk_test_"),
        (LIVE_KEY[:-1], "51 characters long, but this one has 50"),
        (LIVE_KEY + "Q", "has 52"),
        (LIVE_KEY[:-1] + "-", "only letters and digits"),
        (LIVE_KEY[:-1] + "é", "only letters and digits"),
    ],
    ids=["empty", "leading-space", "newline", "prefix", "short", "long", "dash", "accent"],
)
def test_bad_key_explained(api_key: str, expected: str) -> None:
    message = validate_api_key(api_key)
    assert message is not None
    assert expected in message
    assert LIVE_KEY[8:30] not in message
