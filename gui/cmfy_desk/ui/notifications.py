"""Notifications per batch, not per image, and when a connection has a problem.

Three events can notify. A batch is done when every job ended and at least one succeeded. A
batch failed when every job ended and none succeeded, or when the queue paused it after failures
in a row. A connection problem is a webhook tunnel or a ComfyUI server's websocket going down,
or the window failing to connect. Each event has its own delivery: none, a notice in the
window, or a desktop notification through the tray icon, with an optional beep.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QSystemTrayIcon,
    QWidget,
)

from cmfy_desk.bridge.events import BridgeState, BridgeStatus
from cmfy_desk.scheduler.events import Notice, NoticeLevel
from cmfy_desk.settings import SETTINGS, Settings
from cmfy_desk.store import FINAL_STATUSES, Job, JobStatus, Store, StoreError

if TYPE_CHECKING:
    from cmfy_desk.ui.engine_signals import EngineSignals
    from cmfy_desk.ui.tray import Tray

log = logging.getLogger(__name__)

# How long a desktop notification stays, as the tray's own notifications do.
NOTIFICATION_MS = 10_000


class Delivery(StrEnum):
    NONE = "none"
    IN_APP = "in_app"  # a notice in the window's notice panel
    DESKTOP = "desktop"  # a desktop notification from the tray icon


class NotificationEvent(StrEnum):
    BATCH_DONE = "batch_done"
    BATCH_FAILED = "batch_failed"
    CONNECTION_PROBLEM = "connection_problem"


_DELIVERY_CHOICES = tuple(delivery.value for delivery in Delivery)

# The declared settings the preferences are read from.
NOTIFICATION_SETTINGS = tuple(
    setting for setting in SETTINGS if setting.key.startswith("notifications.")
)
_EVENT_KEYS = {
    NotificationEvent.BATCH_DONE: "notifications.batch_done",
    NotificationEvent.BATCH_FAILED: "notifications.batch_failed",
    NotificationEvent.CONNECTION_PROBLEM: "notifications.connection_problem",
}
_SOUND_KEY = "notifications.sound"
# Bridge states in which job status no longer arrives as it should.
_DOWN_STATES = frozenset({BridgeState.TUNNEL_DOWN, BridgeState.SOCKET_DOWN})


@dataclass(frozen=True)
class NotificationPreferences:
    """The delivery of each event, and whether a beep goes with it."""

    # The defaults of the notifications.* settings.
    batch_done: Delivery = Delivery.IN_APP
    batch_failed: Delivery = Delivery.DESKTOP
    connection_problem: Delivery = Delivery.IN_APP
    sound: bool = False

    def delivery(self, event: NotificationEvent) -> Delivery:
        match event:
            case NotificationEvent.BATCH_DONE:
                return self.batch_done
            case NotificationEvent.BATCH_FAILED:
                return self.batch_failed
            case NotificationEvent.CONNECTION_PROBLEM:
                return self.connection_problem

    def with_delivery(
        self, event: NotificationEvent, delivery: Delivery
    ) -> NotificationPreferences:
        match event:
            case NotificationEvent.BATCH_DONE:
                return replace(self, batch_done=delivery)
            case NotificationEvent.BATCH_FAILED:
                return replace(self, batch_failed=delivery)
            case NotificationEvent.CONNECTION_PROBLEM:
                return replace(self, connection_problem=delivery)

    @classmethod
    def from_settings(cls, settings: Settings) -> NotificationPreferences:
        """Read the preferences; a setting that settings.py does not declare yet keeps its
        default."""
        preferences = cls()
        for event, key in _EVENT_KEYS.items():
            try:
                value = settings.get(key)
            except KeyError:
                continue
            preferences = preferences.with_delivery(event, Delivery(value))
        try:
            sound = bool(settings.get(_SOUND_KEY))
        except KeyError:
            return preferences
        return replace(preferences, sound=sound)

    def save_to(self, settings: Settings) -> None:
        """Set the preferences in ``settings`` (call its save() to write them). Raises
        KeyError while settings.py does not declare the notification settings."""
        for event, key in _EVENT_KEYS.items():
            settings.set(key, self.delivery(event).value)
        settings.set(_SOUND_KEY, self.sound)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Notifications", text)


def batch_outcome_text(name: str, jobs: list[Job]) -> tuple[NotificationEvent, str] | None:
    """Return the event and text for a batch whose jobs have all ended ("Batch 'foxes' done:
    98 succeeded, 2 failed"), or None while any has not. See ``batch_outcome_from_counts``."""
    return batch_outcome_from_counts(name, Counter(job.status for job in jobs))


def batch_outcome_from_counts(
    name: str, counts: Mapping[JobStatus, int]
) -> tuple[NotificationEvent, str] | None:
    """Return the event and text for a batch from the number of its jobs in each status, or
    None while any job has not ended. Lost jobs count as failed; partial and cancelled jobs
    are named only when there are any. A batch with no success and at least one failure
    failed."""
    if not any(counts.values()) or any(
        count for status, count in counts.items() if status not in FINAL_STATUSES
    ):
        return None
    succeeded = counts.get(JobStatus.SUCCEEDED, 0)
    failed = counts.get(JobStatus.FAILED, 0) + counts.get(JobStatus.LOST, 0)
    partial = counts.get(JobStatus.PARTIAL, 0)
    cancelled = counts.get(JobStatus.CANCELLED, 0)
    if succeeded or partial or not failed:
        event = NotificationEvent.BATCH_DONE
        text = _tr("Batch '{name}' done: {succeeded} succeeded, {failed} failed")
    else:
        event = NotificationEvent.BATCH_FAILED
        text = _tr("Batch '{name}' failed: {succeeded} succeeded, {failed} failed")
    text = text.format(name=name, succeeded=succeeded, failed=failed)
    if partial:
        text += _tr(", {count} partial").format(count=partial)
    if cancelled:
        text += _tr(", {count} cancelled").format(count=cancelled)
    return event, text


class Notifier(QObject):
    """Delivers batch and connection notifications as ``preferences`` set.

    ``store()`` returns the store of the engine in use, or None. ``notify_in_app(level, text)``
    adds a notice to the window. ``tray`` shows desktop notifications. Without a tray icon that
    is shown and can show messages, a desktop notification becomes a notice in the window, so
    nothing is lost. ``notified(event, delivery, text)`` is emitted for each notification
    delivered.

    A batch is announced once when all its jobs have ended, and again only after a retry
    reopened it and it ended again.
    """

    notified = Signal(str, str, str)

    def __init__(
        self,
        store: Callable[[], Store | None],
        notify_in_app: Callable[[NoticeLevel, str], None],
        preferences: NotificationPreferences | None = None,
        tray: Tray | None = None,
        beep: Callable[[], None] = QApplication.beep,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._notify_in_app = notify_in_app
        self.preferences = preferences or NotificationPreferences()
        self.tray = tray
        self._beep = beep
        self._announced_batches: set[int] = set()
        self._down_connections: set[str] = set()

    def attach(self, signals: EngineSignals) -> None:
        """Follow the job changes, notices and bridge states of the window's engine."""
        signals.jobChanged.connect(self.job_changed)
        signals.notice.connect(self.notice)
        signals.bridgeChanged.connect(self.bridge_changed)

    # Events -------------------------------------------------------------------------------------

    def job_changed(self, job: Job) -> None:
        if job.status not in FINAL_STATUSES:
            # A retried job reopens its batch, which is announced again when it ends.
            self._announced_batches.discard(job.batch_id)
            return
        if job.batch_id in self._announced_batches:
            return
        store = self._store()
        if store is None:
            return
        try:
            if store.count_unfinished(job.batch_id):
                return
            batch = store.get_batch(job.batch_id)
            counts = store.status_counts(job.batch_id)
        except (KeyError, StoreError, sqlite3.Error) as exc:
            log.warning("Reading batch %d for its notification failed: %s", job.batch_id, exc)
            return
        outcome = batch_outcome_from_counts(batch.name, counts)
        if outcome is None:
            return
        self._announced_batches.add(job.batch_id)
        event, text = outcome
        self._deliver(event, text)

    def notice(self, notice: Notice) -> None:
        """Announce a batch the queue paused after failures in a row (its notice names the
        batch, the count and the last error)."""
        if notice.job_id is None or notice.level is NoticeLevel.INFO:
            return
        store = self._store()
        if store is None:
            return
        try:
            job = store.get_job(notice.job_id)
            batch = store.get_batch(job.batch_id)
        except (KeyError, StoreError, sqlite3.Error) as exc:
            log.warning("Reading job %d for a notification failed: %s", notice.job_id, exc)
            return
        if batch.paused and job.status is JobStatus.FAILED:
            self._deliver(NotificationEvent.BATCH_FAILED, notice.message)

    def bridge_changed(self, status: BridgeStatus) -> None:
        """Announce a connection whose tunnel or websocket went down, once until it is back."""
        if status.state not in _DOWN_STATES:
            self._down_connections.discard(status.connection)
            return
        if status.connection in self._down_connections:
            return
        self._down_connections.add(status.connection)
        if status.state is BridgeState.TUNNEL_DOWN:
            text = _tr("Connection {name}: the webhook tunnel does not answer; polling instead.")
        else:
            text = _tr("Connection {name}: the server's websocket is down; reconnecting.")
        text = text.format(name=status.connection)
        if status.message:
            text += " " + status.message
        self._deliver(NotificationEvent.CONNECTION_PROBLEM, text)

    def connection_problem(self, text: str) -> None:
        """Announce a connection problem the window found itself (connecting failed)."""
        self._deliver(NotificationEvent.CONNECTION_PROBLEM, text)

    # Delivery -----------------------------------------------------------------------------------

    def _deliver(self, event: NotificationEvent, text: str) -> None:
        delivery = self.preferences.delivery(event)
        if delivery is Delivery.NONE:
            log.info("Not notifying (%s is off): %s", event.value, text)
            return
        if delivery is Delivery.DESKTOP and not self._show_desktop(event, text):
            delivery = Delivery.IN_APP
        if delivery is Delivery.IN_APP:
            self._notify_in_app(_LEVELS[event], text)
        log.info("Notified by %s: %s", delivery.value, text)
        if self.preferences.sound:
            self._beep()
        self.notified.emit(event.value, delivery.value, text)

    def _show_desktop(self, event: NotificationEvent, text: str) -> bool:
        tray = self.tray
        if tray is None or not tray.icon.isVisible() or not tray.icon.supportsMessages():
            return False
        titles = {
            NotificationEvent.BATCH_DONE: _tr("Batch done"),
            NotificationEvent.BATCH_FAILED: _tr("Batch failed"),
            NotificationEvent.CONNECTION_PROBLEM: _tr("Connection problem"),
        }
        icons = {
            NotificationEvent.BATCH_DONE: QSystemTrayIcon.MessageIcon.Information,
            NotificationEvent.BATCH_FAILED: QSystemTrayIcon.MessageIcon.Warning,
            NotificationEvent.CONNECTION_PROBLEM: QSystemTrayIcon.MessageIcon.Critical,
        }
        tray.icon.showMessage(titles[event], text, icons[event], NOTIFICATION_MS)
        return True


_LEVELS = {
    NotificationEvent.BATCH_DONE: NoticeLevel.INFO,
    NotificationEvent.BATCH_FAILED: NoticeLevel.WARNING,
    NotificationEvent.CONNECTION_PROBLEM: NoticeLevel.ERROR,
}


class NotificationSettingsGroup(QGroupBox):
    """The settings of notifications: a delivery per event and the beep, for the Settings
    window."""

    def __init__(self, preferences: NotificationPreferences, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Notifications"), parent)
        self.combos: dict[NotificationEvent, QComboBox] = {}
        layout = QFormLayout(self)
        labels = {
            NotificationEvent.BATCH_DONE: self.tr("Batch done:"),
            NotificationEvent.BATCH_FAILED: self.tr("Batch failed:"),
            NotificationEvent.CONNECTION_PROBLEM: self.tr("Connection problem:"),
        }
        names = {
            Delivery.NONE: self.tr("None"),
            Delivery.IN_APP: self.tr("In the window"),
            Delivery.DESKTOP: self.tr("Desktop notification"),
        }
        for event, label in labels.items():
            combo = QComboBox()
            for delivery, name in names.items():
                combo.addItem(name, delivery.value)
            combo.setCurrentIndex(combo.findData(preferences.delivery(event).value))
            self.combos[event] = combo
            layout.addRow(label, combo)
        self.sound = QCheckBox(self.tr("Beep with each notification"))
        self.sound.setChecked(preferences.sound)
        layout.addRow("", self.sound)

    def preferences(self) -> NotificationPreferences:
        preferences = NotificationPreferences(sound=self.sound.isChecked())
        for event, combo in self.combos.items():
            preferences = preferences.with_delivery(event, Delivery(combo.currentData()))
        return preferences
