"""The bridge of a cmfy.cloud connection, or of the sandbox, which speaks the same API.

With a tunnel URL, each job is submitted with its own webhook URL, and deliveries arrive
through the receiver. The service signs nothing, so a delivery is only a hint: the bridge
confirms it with one status read and applies what the read returns. A monitor checks the
tunnel. While the tunnel works, the poller runs as a slow safety net. While it is down, the
poller takes over at its normal pace. Without a tunnel URL the bridge only polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Coroutine
from typing import Any

from cmfy_desk.backends.base import Backend, RemoteJob
from cmfy_desk.backends.errors import BackendError, NetworkError, ServerError
from cmfy_desk.bridge.events import (
    BridgeChanged,
    BridgeState,
    BridgeStatus,
    EmitBridgeEvent,
    StatusSink,
)
from cmfy_desk.bridge.poller import FINAL_REMOTE_STATUSES, MAX_CONCURRENT_READS, Poller
from cmfy_desk.bridge.receiver import WebhookReceiver
from cmfy_desk.bridge.tunnel import (
    check_tunnel,
    hook_url,
    normalize_public_base_url,
    validate_public_base_url,
)
from cmfy_desk.store import Job, JobStatus, Store, WebhookDelivery

log = logging.getLogger(__name__)

MODES = ("auto", "webhook", "poll")
# While the tunnel is down it is checked this often (or every tunnel_check_interval if shorter).
TUNNEL_DOWN_CHECK_INTERVAL = 10.0
WEBHOOK_TOKEN_BYTES = 32  # secrets.token_urlsafe(32) gives 43 characters, 256 random bits
_WATCHED_STATUSES = (JobStatus.SUBMITTED, JobStatus.RUNNING)
_NO_STATUS_ROUTE_NOTE = (
    " The service returned 404 for the status of a job it had just reported through its "
    "webhook, so it has no status endpoint: this connection relies on webhooks alone."
)


class CloudBridge:
    """Turns webhooks and status reads of one cmfy.cloud connection into job states.

    ``apply(job_id, remote)`` receives every confirmed status (None: the service does not know
    the job); ``emit`` receives a BridgeChanged whenever the bridge's state changes. ``mode`` is
    "auto" (webhooks when a tunnel URL is set), "webhook" or "poll" (never webhooks). The engine
    routes the receiver's deliveries of this connection's jobs to ``on_delivery``. Start it
    after the scheduler, whose recovery must run before this bridge reconciles.
    """

    def __init__(
        self,
        store: Store,
        client: Backend,
        apply: StatusSink,
        emit: EmitBridgeEvent,
        *,
        connection: str,
        mode: str = "auto",
        public_base_url: str = "",
        receiver: WebhookReceiver | None = None,
        tunnel_check_interval: float = 60.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"Unknown bridge mode {mode!r}: expected one of {', '.join(MODES)}.")
        if not tunnel_check_interval > 0:
            raise ValueError(
                f"Invalid tunnel check interval {tunnel_check_interval!r}: "
                "expected seconds above 0."
            )
        self._store = store
        self._apply = apply
        self._emit = emit
        self._connection = connection
        self._mode = mode
        self._public_base_url = normalize_public_base_url(public_base_url)
        self._receiver = receiver
        self._tunnel_check_interval = tunnel_check_interval
        self._poller = Poller(client, self._on_status, on_error=self._on_read_error)
        self._webhooks, self._polling_message = self._choose_transport()

        self._state = BridgeState.STOPPED
        self._message = ""
        self._received = 0
        self._last_delivery_at: float | None = None
        self._no_status_route = False
        self._reads_failing = False
        # Deliveries waiting for the status read that confirms them, by local job id.
        self._awaiting: dict[int, list[tuple[WebhookDelivery, RemoteJob]]] = {}
        # Deliveries that arrived before their job had a remote id (still submitting).
        self._deferred: dict[int, list[WebhookDelivery]] = {}
        self._confirming: dict[int, asyncio.Task[None]] = {}
        self._recheck = asyncio.Event()
        self._monitor_task: asyncio.Task[None] | None = None
        self._reconcile_task: asyncio.Task[None] | None = None
        self._reconcile_again = False
        self._tasks: set[asyncio.Task[None]] = set()

    def _choose_transport(self) -> tuple[bool, str]:
        """Return whether to use webhooks, and the message to show while only polling."""
        if self._mode == "poll":
            return False, "Polling job status: webhooks are off for this connection."
        if not self._public_base_url or self._receiver is None:
            if self._mode == "webhook":
                return False, (
                    "Polling job status: webhooks need a tunnel URL and a running receiver. "
                    "Enter your tunnel's public URL in Settings."
                )
            return False, (
                "Polling job status: no tunnel URL is set. Enter your tunnel's public URL in "
                "Settings to receive webhooks."
            )
        problem = validate_public_base_url(self._public_base_url)
        if problem is not None:
            log.warning("Connection %s: %s Polling instead.", self._connection, problem)
            return False, f"{problem} Polling job status meanwhile."
        return True, ""

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start polling and the tunnel monitor, apply deliveries left by a crash, reconcile."""
        self._poller.start()
        if self._webhooks:
            self._set_state(BridgeState.POLLING, f"Checking the tunnel at {self._public_base_url}…")
            self._monitor_task = asyncio.create_task(self._monitor(), name="tunnel-monitor")
        else:
            self._set_state(BridgeState.POLLING, self._polling_message)
        pending = [d for d in self._store.pending_webhooks() if self._owns(d.job_id)]
        if pending:
            log.info("Connection %s: applying %d pending webhooks", self._connection, len(pending))
        for delivery in pending:
            self._handle_delivery(delivery)
        self._reconcile_soon()

    async def stop(self) -> None:
        tasks = [
            *self._tasks,
            *self._confirming.values(),
            *([self._monitor_task] if self._monitor_task else []),
            *([self._reconcile_task] if self._reconcile_task else []),
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._poller.stop()
        self._tasks.clear()
        self._confirming.clear()
        # Deliveries not yet applied stay pending in the store; the next start applies them.
        self._awaiting.clear()
        self._deferred.clear()
        self._monitor_task = self._reconcile_task = None
        self._set_state(BridgeState.STOPPED, "")

    @property
    def poller(self) -> Poller:
        return self._poller

    @property
    def webhooks_enabled(self) -> bool:
        """True when jobs are submitted with webhook URLs."""
        return self._webhooks

    @property
    def status(self) -> BridgeStatus:
        message = self._message
        if self._no_status_route:
            message += _NO_STATUS_ROUTE_NOTE
        return BridgeStatus(
            connection=self._connection,
            state=self._state,
            message=message.strip(),
            last_delivery_at=self._last_delivery_at,
            webhooks_received=self._received,
            status_reads=self._poller.reads,
        )

    # What the engine calls ---------------------------------------------------------------

    def webhook_url_for(self, job: Job) -> str | None:
        """Return the webhook URL for submitting ``job``, or None while only polling.

        The job keeps its token across retries of the same submission: a resubmission with
        the same idempotency key returns the job created with the first URL.
        """
        if not self._webhooks:
            return None
        token = job.webhook_token
        if not token:
            token = secrets.token_urlsafe(WEBHOOK_TOKEN_BYTES)
            self._store.update_job(job.id, webhook_token=token)
        return hook_url(self._public_base_url, token)

    def watch(self, job: Job) -> None:
        if job.remote_id is None:
            return
        if not self._no_status_route:
            self._poller.watch(job.id, job.remote_id)
        for delivery in self._deferred.pop(job.id, []):
            self._handle_delivery(delivery)

    def unwatch(self, job_id: int) -> None:
        self._poller.unwatch(job_id)

    def on_delivery(self, delivery: WebhookDelivery) -> None:
        """Handle a delivery the receiver recorded for one of this connection's jobs."""
        self._received += 1
        self._last_delivery_at = delivery.received_at
        if self._state is BridgeState.STOPPED:
            # It stays pending in the store; start() applies it.
            log.info("Webhook %d arrived while the bridge is stopped; kept", delivery.id)
            return
        if self._state is BridgeState.TUNNEL_DOWN:
            # A delivery came through, so the tunnel may be back: check it now.
            self._recheck.set()
        self._handle_delivery(delivery)

    # Deliveries --------------------------------------------------------------------------

    def _handle_delivery(self, delivery: WebhookDelivery) -> None:
        remote = _parse_body(delivery)
        try:
            job = self._store.get_job(delivery.job_id)
        except KeyError:
            job = None
        if remote is None or job is None:
            log.warning(
                "Webhook %d of job %d ignored: %s",
                delivery.id,
                delivery.job_id,
                "the body is not a JSON object" if remote is None else "the job no longer exists",
            )
            self._store.mark_webhook_handled(delivery.id)
            return
        if job.remote_id is None and job.status in (JobStatus.QUEUED, JobStatus.SUBMITTING):
            # The service finished the job before our submission's response was processed.
            log.info(
                "Webhook %d of job %d kept until its submission completes", delivery.id, job.id
            )
            self._deferred.setdefault(job.id, []).append(delivery)
            return
        if remote.job_id != job.remote_id or job.status not in _WATCHED_STATUSES:
            reason = (
                f"it reports remote job {remote.job_id!r}, not {job.remote_id!r}"
                if remote.job_id != job.remote_id
                else f"the job is already {job.status}"
            )
            log.info("Webhook %d of job %d ignored: %s", delivery.id, job.id, reason)
            self._store.mark_webhook_handled(delivery.id)
            return
        if self._no_status_route:
            self._apply(job.id, remote)
            self._store.mark_webhook_handled(delivery.id)
            return
        self._awaiting.setdefault(job.id, []).append((delivery, remote))
        if job.id in self._confirming:
            # The read under way started after an earlier delivery of the same result.
            return
        self._poller.watch(job.id, job.remote_id)
        self._spawn_confirmation(job.id)

    def _spawn_confirmation(self, job_id: int) -> None:
        task = asyncio.create_task(self._confirm(job_id), name=f"confirm-{job_id}")
        self._confirming[job_id] = task

    async def _confirm(self, job_id: int) -> None:
        """Read the job's status once; the read's report settles the waiting deliveries."""
        try:
            await self._poller.read_now(job_id, confirming=True)
        finally:
            # Removed here rather than in a done callback, so that no delivery can join a
            # confirmation that has already finished.
            self._confirming.pop(job_id, None)
        if job_id not in self._awaiting:
            return
        if self._no_status_route:
            self._apply_awaiting_body(job_id)
            return
        if self._store.get_job(job_id).status not in _WATCHED_STATUSES:
            self._settle(job_id)
            return
        # The read failed, or the service does not report the result yet: keep reading this
        # job at the normal pace, even while the safety net is on.
        self._poller.set_urgent(job_id)

    def _apply_awaiting_body(self, job_id: int) -> None:
        awaiting = self._awaiting.get(job_id)
        if awaiting:
            self._apply(job_id, awaiting[-1][1])
        self._settle(job_id)

    def _settle(self, job_id: int) -> None:
        for delivery, _remote in self._awaiting.pop(job_id, []):
            self._store.mark_webhook_handled(delivery.id)

    # Status reads ------------------------------------------------------------------------

    def _on_status(self, job_id: int, remote: RemoteJob | None) -> None:
        if self._reads_failing:
            self._reads_failing = False
            log.info("Status reads of %s work again; reconciling", self._connection)
            self._reconcile_soon()
        awaiting = self._awaiting.get(job_id)
        if remote is None and awaiting:
            # The webhook proved that the service has this job, so its 404 means there is
            # no status route. NOTE: a job the service forgot right after its webhook looks
            # the same, and then polling stops for the rest of the session.
            self._detect_no_status_route()
            self._apply_awaiting_body(job_id)
            return
        self._apply(job_id, remote)
        if awaiting is None:
            return
        if (
            remote is None
            or remote.status in FINAL_REMOTE_STATUSES
            or self._store.get_job(job_id).status not in _WATCHED_STATUSES
        ):
            self._settle(job_id)

    def _on_read_error(self, job_id: int, error: BackendError) -> None:
        if isinstance(error, NetworkError | ServerError) and not self._reads_failing:
            self._reads_failing = True
            log.warning("Status reads of %s are failing: %s", self._connection, error)

    def _detect_no_status_route(self) -> None:
        if self._no_status_route:
            return
        self._no_status_route = True
        log.warning("Connection %s: %s", self._connection, _NO_STATUS_ROUTE_NOTE.strip())
        self._spawn(self._poller.stop(), "poller-stop")
        self._emit(BridgeChanged(self.status))

    # Reconciling -------------------------------------------------------------------------

    def _reconcile_soon(self) -> None:
        if self._reconcile_task is not None and not self._reconcile_task.done():
            self._reconcile_again = True
            return
        self._reconcile_task = asyncio.create_task(self._reconcile_loop(), name="reconcile")

    async def _reconcile_loop(self) -> None:
        while True:
            self._reconcile_again = False
            await self.reconcile()
            if not self._reconcile_again:
                return

    async def reconcile(self) -> None:
        """Read every SUBMITTED or RUNNING job of this connection once and apply the result.

        A job the service does not know becomes LOST (the poller reports None for a 404).
        NOTE: a status route that does not exist also returns 404; it is recognised only
        through a webhook (see _on_status), so polling without webhooks marks every job LOST.
        """
        if self._no_status_route:
            return
        jobs = [
            job
            for job in self._store.jobs(statuses=_WATCHED_STATUSES)
            if job.connection == self._connection and job.remote_id
        ]
        if not jobs:
            return
        log.info("Reconciling %d jobs of %s", len(jobs), self._connection)
        slots = asyncio.Semaphore(MAX_CONCURRENT_READS)

        async def read(job: Job) -> None:
            assert job.remote_id is not None
            async with slots:
                current = self._store.get_job(job.id)
                if job.id in self._confirming or current.status not in _WATCHED_STATUSES:
                    return
                self._poller.watch(job.id, job.remote_id)
                await self._poller.read_now(job.id)

        await asyncio.gather(*(read(job) for job in jobs))

    # The tunnel --------------------------------------------------------------------------

    async def _monitor(self) -> None:
        assert self._receiver is not None
        while True:
            result = await check_tunnel(self._public_base_url, self._receiver)
            if result.ok:
                self._poller.set_safety_net(True)
                self._set_state(BridgeState.WEBHOOKS, result.message)
                interval = self._tunnel_check_interval
            else:
                self._poller.set_safety_net(False)
                self._set_state(
                    BridgeState.TUNNEL_DOWN,
                    f"{result.message} Polling job status until the tunnel answers again.",
                )
                interval = min(TUNNEL_DOWN_CHECK_INTERVAL, self._tunnel_check_interval)
            self._recheck.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._recheck.wait()

    # Helpers -----------------------------------------------------------------------------

    def _set_state(self, state: BridgeState, message: str) -> None:
        changed = state is not self._state
        self._state = state
        self._message = message
        if not changed:
            return
        if state is BridgeState.TUNNEL_DOWN:
            log.warning("Connection %s: %s", self._connection, message)
        else:
            log.info("Connection %s is now %s: %s", self._connection, state, message)
        self._emit(BridgeChanged(self.status))

    def _owns(self, job_id: int) -> bool:
        try:
            return self._store.get_job(job_id).connection == self._connection
        except KeyError:
            return False

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _parse_body(delivery: WebhookDelivery) -> RemoteJob | None:
    try:
        data = json.loads(delivery.body)
    except ValueError:
        return None
    return RemoteJob.from_json(data) if isinstance(data, dict) else None
