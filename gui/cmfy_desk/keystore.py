"""API keys in the OS keyring, with an in-memory fallback when no keyring works.

The key is never logged and never written to any file by this module. Calls go to the
keyring backend synchronously, and some backends (Secret Service, KWallet) can block while
they ask the user to unlock, so callers on the UI thread should expect a delay.
"""

from __future__ import annotations

import logging
import re

import keyring
import keyring.errors

logger = logging.getLogger(__name__)

SERVICE_NAME = "cmfy-desk"

API_KEY_PREFIXES = ("sk_live_", "sk_test_")
API_KEY_LENGTH = 51  # the 8-character prefix plus 43 random characters
_API_KEY_PATTERN = re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{43}")

SESSION_ONLY_NOTICE = (
    "No secure key store is available on this system, so the API key is kept for this "
    "session only and must be entered again after a restart. To keep it, install and unlock "
    "a keyring service (for example GNOME Keyring or KWallet on Linux)."
)


class ApiKeyStore:
    """API keys per account, kept in the OS keyring under the service ``cmfy-desk``.

    When the keyring fails, the store logs one warning, switches to ``session_only`` for the
    rest of the session and keeps keys in memory.
    """

    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self._session_only = False
        self._notice_pending = False

    @property
    def session_only(self) -> bool:
        """Whether keys live in memory because the keyring failed."""
        return self._session_only

    def get(self, account: str) -> str | None:
        """Return the account's API key, or None when none is stored."""
        if not self._session_only:
            try:
                return keyring.get_password(SERVICE_NAME, account)
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc, "read")
        return self._memory.get(account)

    def set(self, account: str, api_key: str) -> bool:
        """Store the account's API key.

        Returns True when the keyring saved it and False when it is kept for this session only.
        Raises ValueError for an empty key.
        """
        if not api_key:
            raise ValueError("The API key is empty.")
        if not self._session_only:
            try:
                keyring.set_password(SERVICE_NAME, account, api_key)
                return True
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc, "save")
        self._memory[account] = api_key
        return False

    def delete(self, account: str) -> None:
        """Remove the account's API key; deleting a key that is not stored does nothing."""
        self._memory.pop(account, None)
        if self._session_only:
            return
        try:
            keyring.delete_password(SERVICE_NAME, account)
        except keyring.errors.PasswordDeleteError:
            # Raised when the keyring contains no key for the account, which is the goal anyway.
            pass
        except keyring.errors.KeyringError as exc:
            self._fall_back(exc, "delete")

    def take_notice(self) -> str | None:
        """Return the session-only message once after the keyring failed, then None."""
        if not self._notice_pending:
            return None
        self._notice_pending = False
        return SESSION_ONLY_NOTICE

    def _fall_back(self, error: keyring.errors.KeyringError, action: str) -> None:
        # The backend's message helps diagnose the failure. This module never formats a key
        # into a message, so only the backend's own text is logged.
        logger.warning(
            "Could not %s the API key in the system keyring (%s: %s); keeping API keys in "
            "memory for this session",
            action,
            type(error).__name__,
            error,
        )
        self._session_only = True
        self._notice_pending = True


def validate_api_key(api_key: str) -> str | None:
    """Return None for a well-formed cmfy.cloud API key, else a message saying what is wrong.

    The message never contains the key itself.
    """
    if not api_key:
        return "The API key is empty. Paste the key shown in the cmfy.cloud portal."
    if api_key != api_key.strip():
        return "The API key starts or ends with spaces. Remove them and try again."
    if not api_key.startswith(API_KEY_PREFIXES):
        return "The API key must start with sk_live_ or sk_test_. Copy the whole key again."
    if len(api_key) != API_KEY_LENGTH:
        return (
            f"The API key must be {API_KEY_LENGTH} characters long, but this one has "
            f"{len(api_key)}. Copy the whole key again."
        )
    if not _API_KEY_PATTERN.fullmatch(api_key):
        return (
            "The API key may contain only letters and digits after its prefix. "
            "Copy the whole key again."
        )
    return None
