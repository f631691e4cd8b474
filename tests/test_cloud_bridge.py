"""The cloud bridge against a real sandbox: webhooks through the receiver, polling, the tunnel.

Each test wires the parts the way the engine does: a real Store, the real Scheduler, the
cmfy.cloud client talking to the sandbox over loopback, the webhook receiver, and a
CloudBridge whose confirmed statuses go to Scheduler.apply_remote.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import ClientSession, web

from cmfy_desk.backends.base import RemoteJob, RequestCounts
from cmfy_desk.backends.cmfy_cloud import ApiPaths, CmfyCloudClient
from cmfy_desk.backends.errors import NetworkError, NotFoundError, RateLimitError
from cmfy_desk.backends.limits import Limits
from cmfy_desk.backends.limits import PlanLimits as ClientPlan
from cmfy_desk.bridge.cloud_bridge import CloudBridge
from cmfy_desk.bridge.events import BridgeChanged, BridgeEvent, BridgeState
from cmfy_desk.bridge.poller import (
    MIN_INTERVAL,
    SAFETY_NET_INTERVAL,
    Poller,
    ReadBudget,
)
from cmfy_desk.bridge.receiver import WebhookReceiver
from cmfy_desk.outputs.download import Downloader
from cmfy_desk.sandbox import PlanLimits, SandboxServer
from cmfy_desk.scheduler import EngineEvent, JobChanged, Scheduler, SchedulerOptions
from cmfy_desk.store import FINAL_STATUSES, Job, JobStatus, Store
from cmfy_desk.workflows.formats import load_workflow_file
from tests.helpers import running_sandbox, wait_for

CONNECTION = "sandbox"
FAST_RETRIES = SchedulerOptions(retry_base_delay=0.01, retry_max_delay=0.05)


# The rig ---------------------------------------------------------------------------------


@dataclass
class Rig:
    sandbox: SandboxServer
    store: Store
    client: CmfyCloudClient
    receiver: WebhookReceiver
    scheduler: Scheduler
    bridge: CloudBridge
    prompt: dict[str, Any]
    engine_events: list[EngineEvent] = field(default_factory=list)
    bridge_events: list[BridgeEvent] = field(default_factory=list)

    def queue(self, count: int) -> list[Job]:
        """Queue ``count`` jobs of the SD 1.5 workflow with seeds 1, 2, 3..."""
        graphs = []
        for seed in range(1, count + 1):
            graph = copy.deepcopy(self.prompt)
            graph["5"]["inputs"]["seed"] = seed
            graphs.append((graph, f"hash-{seed}", seed))
        _batch, jobs = self.store.add_batch(
            name=f"batch-{uuid.uuid4().hex[:8]}",
            workflow_name="sd15_txt2img",
            workflow_path="sd15_txt2img.json",
            connection=CONNECTION,
            seed_mode="increment",
            output_dir=str(self.store.path.parent / "out"),
            jobs=graphs,
        )
        self.scheduler.wake()
        return jobs

    def statuses(self, jobs: list[Job]) -> list[JobStatus]:
        return [self.store.get_job(job.id).status for job in jobs]

    def all_final(self, jobs: list[Job]) -> bool:
        return all(status in FINAL_STATUSES for status in self.statuses(jobs))

    def states(self) -> list[BridgeState]:
        return [e.status.state for e in self.bridge_events if isinstance(e, BridgeChanged)]

    def downloads_started(self, job: Job) -> int:
        return sum(
            1
            for _at, status, _detail in self.store.job_events(job.id)
            if status is JobStatus.DOWNLOADING
        )


@contextlib.asynccontextmanager
async def cloud_rig(
    tmp_path: Path,
    *,
    mode: str = "webhook",
    speed: float = 20.0,
    limits: PlanLimits | None = None,
    public_base_url: str | None = None,
    tunnel_check_interval: float = 60.0,
    paths: ApiPaths | None = None,
    sandbox: SandboxServer | None = None,
) -> AsyncIterator[Rig]:
    """Run the engine's parts against a sandbox; ``public_base_url`` defaults to the
    receiver's own URL, as the engine does for the sandbox."""
    limits = limits or PlanLimits(requests_per_minute=600, running=2, queued=100)
    async with contextlib.AsyncExitStack() as stack:
        if sandbox is None:
            sandbox = await stack.enter_async_context(
                running_sandbox(tmp_path, speed=speed, limits=limits)
            )
        store = Store.open(tmp_path / "data" / "db.sqlite3")
        stack.callback(store.close)
        client = CmfyCloudClient(
            sandbox.base_url,
            sandbox.api_key,
            ClientPlan(limits.requests_per_minute, limits.running, limits.queued),
            paths=paths,
        )
        stack.push_async_callback(client.aclose)
        downloader = Downloader()
        stack.push_async_callback(downloader.aclose)

        holder: dict[str, CloudBridge] = {}
        receiver = WebhookReceiver(store, lambda delivery: holder["bridge"].on_delivery(delivery))
        await receiver.start()
        stack.push_async_callback(receiver.stop)

        engine_events: list[EngineEvent] = []

        def dispatch(event: EngineEvent) -> None:
            engine_events.append(event)
            if isinstance(event, JobChanged) and "bridge" in holder:
                job = event.job
                if job.status in (JobStatus.SUBMITTED, JobStatus.RUNNING) and job.remote_id:
                    holder["bridge"].watch(job)
                else:
                    holder["bridge"].unwatch(job.id)

        scheduler = Scheduler(
            store, client, downloader, dispatch, connection=CONNECTION, options=FAST_RETRIES
        )
        bridge_events: list[BridgeEvent] = []
        bridge = CloudBridge(
            store,
            client,
            scheduler.apply_remote,
            bridge_events.append,
            connection=CONNECTION,
            mode=mode,
            public_base_url=receiver.local_url if public_base_url is None else public_base_url,
            receiver=receiver,
            tunnel_check_interval=tunnel_check_interval,
        )
        holder["bridge"] = bridge
        scheduler.set_webhook_url_for(bridge.webhook_url_for)
        await scheduler.start()
        stack.push_async_callback(scheduler.stop)
        await bridge.start()
        stack.push_async_callback(bridge.stop)
        prompt = load_workflow_file(_workflow_path()).graph
        yield Rig(
            sandbox,
            store,
            client,
            receiver,
            scheduler,
            bridge,
            prompt,
            engine_events,
            bridge_events,
        )


def _workflow_path() -> Path:
    from cmfy_desk.paths import bundled_workflows

    return next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")


class FakeTunnel:
    """A loopback forwarding proxy standing in for the user's tunnel program."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.port = 0
        self.forwarded = 0
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        if not self.target:
            return web.Response(status=502, text="no target yet")
        body = await request.read()
        async with self._session.request(
            request.method,
            self.target + request.path_qs,
            data=body,
            headers={"Content-Type": request.headers.get("Content-Type", "")},
        ) as response:
            self.forwarded += 1
            return web.Response(
                status=response.status,
                body=await response.read(),
                content_type=response.content_type,
            )


# Webhook mode ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_webhook_mode_reads_once_per_job(tmp_path: Path) -> None:
    async with cloud_rig(tmp_path, mode="webhook", speed=20) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
        assert rig.bridge.poller.safety_net
        jobs = rig.queue(8)
        await wait_for(lambda: rig.all_final(jobs), 60)
        statuses = rig.statuses(jobs)
        status = rig.bridge.status
        reads = rig.client.requests["status"]
        outputs = rig.store.outputs()
        stats = rig.sandbox.stats
        pending = rig.store.pending_webhooks()
        tokens = [rig.store.get_job(job.id).webhook_token for job in jobs]

    assert statuses == [JobStatus.SUCCEEDED] * 8
    assert stats["webhooks_sent"] == 8
    assert status.webhooks_received == 8
    # One confirmation per job; the safety net reads a job only after 60 s, which the batch
    # does not last.
    assert reads == 8
    assert status.status_reads == 8
    assert sorted(output.job_id for output in outputs) == sorted(job.id for job in jobs)
    assert set(stats["runs_per_job"].values()) == {1}
    assert pending == []
    assert len(set(tokens)) == 8
    assert all(token and len(token) >= 43 for token in tokens)


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_webhook_faults_download_once(tmp_path: Path) -> None:
    async with running_sandbox(
        tmp_path, speed=20, limits=PlanLimits(requests_per_minute=600, running=2, queued=100)
    ) as sandbox:
        for name in ("webhook_duplicate", "webhook_out_of_order", "webhook_late"):
            sandbox.faults.set_value(name, 1.0)
        sandbox.faults.set_value("webhook_out_of_order_seconds", 1.0)
        sandbox.faults.set_value("webhook_late_seconds", 1.0)
        async with cloud_rig(tmp_path, sandbox=sandbox) as rig:
            await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
            jobs = rig.queue(6)
            await wait_for(lambda: rig.all_final(jobs), 60)
            # First delivery, its duplicate, and the late repeat: three per job.
            await wait_for(lambda: rig.store.count_webhooks() == 18, 30)
            await wait_for(lambda: not rig.store.pending_webhooks(), 10)
            statuses = rig.statuses(jobs)
            downloads = [rig.downloads_started(job) for job in jobs]
            outputs = rig.store.outputs()
            reads = rig.client.requests["status"]
        stats = sandbox.stats

    assert stats["faults_injected"]["webhook_duplicate"] == 6
    assert stats["faults_injected"]["webhook_late"] == 6
    assert statuses == [JobStatus.SUCCEEDED] * 6
    assert downloads == [1] * 6
    assert sorted(output.job_id for output in outputs) == sorted(job.id for job in jobs)
    files = sorted((tmp_path / "data" / "out").rglob("*.png"))
    assert len(files) == 6
    # A duplicate that arrives during the confirmation joins it, and a later one finds the
    # job final: one read per job.
    assert reads == 6


@pytest.mark.asyncio
async def test_duplicate_during_confirmation_reads_once(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path, speed=4) as sandbox:
        sandbox.faults.set_value("webhook_duplicate", 1.0)
        async with cloud_rig(tmp_path, sandbox=sandbox) as rig:
            await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
            jobs = rig.queue(2)
            await wait_for(lambda: all(rig.store.get_job(job.id).remote_id for job in jobs), 10)
            # Every status read now takes 0.5 s, so each duplicate arrives while the read
            # that confirms the first delivery is still under way.
            sandbox.faults.set_value("slow", 1.0)
            sandbox.faults.set_value("slow_seconds", 0.5)
            await wait_for(lambda: rig.all_final(jobs), 30)
            await wait_for(lambda: not rig.store.pending_webhooks(), 5)
            statuses = rig.statuses(jobs)
            downloads = [rig.downloads_started(job) for job in jobs]
            deliveries = rig.store.count_webhooks()
            reads = rig.client.requests["status"]
        slow_requests = sandbox.stats["faults_injected"]["slow"]

    assert slow_requests == 2
    assert statuses == [JobStatus.SUCCEEDED] * 2
    assert deliveries == 4
    assert downloads == [1, 1]
    assert reads == 2


@pytest.mark.asyncio
async def test_delivery_for_cancelled_job_changes_nothing(tmp_path: Path) -> None:
    async with cloud_rig(tmp_path, mode="webhook", speed=0.5) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
        [job] = rig.queue(1)
        await wait_for(lambda: rig.store.get_job(job.id).remote_id is not None, 10)
        await rig.scheduler.cancel(job.id)
        cancelled = rig.store.get_job(job.id)
        reads_before = rig.client.requests["status"]
        body = {
            "job_id": cancelled.remote_id,
            "status": "completed",
            "outputs": {"images": [f"{rig.sandbox.base_url}/outputs/x/image_0.png"]},
        }
        assert cancelled.webhook_token is not None
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{rig.receiver.local_url}/hooks/{cancelled.webhook_token}", json=body
            )
        await wait_for(lambda: not rig.store.pending_webhooks(), 5)
        after = rig.store.get_job(job.id)
        reads_after = rig.client.requests["status"]
        outputs = rig.store.outputs()
        downloads = rig.downloads_started(after)

    assert cancelled.status is JobStatus.CANCELLED
    assert response.status_code == 200
    assert after.status is JobStatus.CANCELLED
    assert downloads == 0
    assert outputs == []
    assert reads_after == reads_before


@pytest.mark.asyncio
async def test_delivery_naming_another_job_is_ignored(tmp_path: Path) -> None:
    async with cloud_rig(tmp_path, mode="webhook", speed=0.2) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
        [job] = rig.queue(1)
        await wait_for(lambda: rig.store.get_job(job.id).remote_id is not None, 10)
        submitted = rig.store.get_job(job.id)
        assert submitted.webhook_token is not None
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{rig.receiver.local_url}/hooks/{submitted.webhook_token}",
                json={"job_id": str(uuid.uuid4()), "status": "failed", "error": {"code": "x"}},
            )
        await wait_for(lambda: not rig.store.pending_webhooks(), 5)
        after = rig.store.get_job(job.id)
        reads = rig.client.requests["status"]

    assert response.status_code == 200
    assert after.status in (JobStatus.SUBMITTED, JobStatus.RUNNING)
    assert reads == 0


@pytest.mark.asyncio
async def test_missing_status_route_applies_body(tmp_path: Path) -> None:
    paths = ApiPaths(status="/v1/job-status/{job_id}")
    # One running job at a time, so no two confirmations overlap.
    limits = PlanLimits(requests_per_minute=600, running=1, queued=100)
    async with cloud_rig(tmp_path, speed=20, limits=limits, paths=paths) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
        jobs = rig.queue(3)
        await wait_for(lambda: rig.all_final(jobs), 60)
        statuses = rig.statuses(jobs)
        status = rig.bridge.status
        outputs = rig.store.outputs()

    assert statuses == [JobStatus.SUCCEEDED] * 3
    assert len(outputs) == 3
    assert "no status endpoint" in status.message
    # The first confirmation found the route missing; later deliveries are applied as sent.
    assert status.status_reads == 1


@pytest.mark.asyncio
async def test_failed_confirmation_is_read_again(tmp_path: Path) -> None:
    async with cloud_rig(tmp_path, mode="webhook", speed=4) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
        [job] = rig.queue(1)
        await wait_for(lambda: rig.sandbox.stats["jobs_started"] == 1, 10)
        # The confirmation read after the webhook gets a 503, and so does the first retry.
        rig.sandbox.faults.error_5xx = 2
        started = time.monotonic()
        await wait_for(lambda: rig.all_final([job]), 20)
        elapsed = time.monotonic() - started
        final = rig.store.get_job(job.id)
        reads = rig.client.requests["status"]
        pending = rig.store.pending_webhooks()

    assert final.status is JobStatus.SUCCEEDED
    assert reads == 3
    # Read again at the normal pace, not after the safety net's 60 s.
    assert elapsed < SAFETY_NET_INTERVAL / 4
    assert pending == []


@pytest.mark.asyncio
async def test_recovered_reads_reconcile_other_jobs(tmp_path: Path) -> None:
    async with cloud_rig(tmp_path, mode="webhook", speed=4) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 10)
        rig.scheduler.pause()
        with_webhook, without = rig.queue(2)
        # One job runs on the service without a webhook URL, as if its delivery was lost:
        # only a status read can find its result, and the safety net reads it after 60 s.
        async with httpx.AsyncClient(base_url=rig.sandbox.base_url) as http:
            response = await http.post(
                "/v1/jobs",
                json={"prompt": without.prompt},
                headers={"Authorization": f"Bearer {rig.sandbox.api_key}"},
            )
        rig.store.transition(without.id, JobStatus.SUBMITTING, attempts=1)
        rig.bridge.watch(
            rig.store.transition(
                without.id, JobStatus.SUBMITTED, remote_id=response.json()["job_id"]
            )
        )
        rig.scheduler.resume()
        await wait_for(lambda: rig.sandbox.stats["jobs_started"] == 2, 10)
        # The read confirming the other job's webhook fails; the next one succeeds.
        rig.sandbox.faults.error_5xx = 1
        started = time.monotonic()
        await wait_for(lambda: rig.all_final([with_webhook, without]), 30)
        elapsed = time.monotonic() - started
        statuses = rig.statuses([with_webhook, without])

    assert statuses == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert elapsed < SAFETY_NET_INTERVAL / 3


# Polling ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_poll_mode_stays_within_budget(tmp_path: Path) -> None:
    limits = PlanLimits(requests_per_minute=240, running=2, queued=100)
    async with cloud_rig(tmp_path, mode="poll", speed=10, limits=limits) as rig:
        assert rig.bridge.status.state is BridgeState.POLLING
        assert not rig.bridge.webhooks_enabled
        started = time.monotonic()
        jobs = rig.queue(8)
        await wait_for(lambda: rig.all_final(jobs), 90)
        elapsed = time.monotonic() - started
        statuses = rig.statuses(jobs)
        reads = rig.client.requests["status"]
        tokens = [rig.store.get_job(job.id).webhook_token for job in jobs]
        stats = rig.sandbox.stats

    assert statuses == [JobStatus.SUCCEEDED] * 8
    assert tokens == [None] * 8
    assert stats["webhooks_sent"] == 0
    # Half of 240 requests per minute is 2 reads per second, plus one early first read of
    # each job.
    assert reads <= 2.0 * elapsed + len(jobs)
    assert stats["rate_limited"].get("rate_limit_exceeded", 0) == 0


@pytest.mark.asyncio
async def test_auto_without_tunnel_url_polls(tmp_path: Path) -> None:
    async with cloud_rig(tmp_path, mode="auto", public_base_url="", speed=20) as rig:
        jobs = rig.queue(2)
        await wait_for(lambda: rig.all_final(jobs), 30)
        status = rig.bridge.status
        statuses = rig.statuses(jobs)
        tokens = [rig.store.get_job(job.id).webhook_token for job in jobs]

    assert status.state is BridgeState.POLLING
    assert "no tunnel URL" in status.message
    assert statuses == [JobStatus.SUCCEEDED] * 2
    assert tokens == [None, None]


# The tunnel ------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.timeout(120)
async def test_tunnel_lost_mid_batch(tmp_path: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        limits = PlanLimits(requests_per_minute=600, running=2, queued=100)
        sandbox = await stack.enter_async_context(running_sandbox(tmp_path, speed=3, limits=limits))
        # The receiver's port is known only once the rig runs, so the tunnel starts on a free
        # port first and gets its target afterwards.
        tunnel = FakeTunnel("")
        await tunnel.start()
        stack.push_async_callback(tunnel.stop)
        rig = await stack.enter_async_context(
            cloud_rig(
                tmp_path,
                sandbox=sandbox,
                public_base_url=tunnel.public_url,
                tunnel_check_interval=0.3,
            )
        )
        tunnel.target = rig.receiver.local_url
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 15)
        jobs = rig.queue(12)
        await wait_for(lambda: sum(s in FINAL_STATUSES for s in rig.statuses(jobs)) >= 3, 60)

        await tunnel.stop()
        await wait_for(lambda: rig.bridge.status.state is BridgeState.TUNNEL_DOWN, 10)
        assert not rig.bridge.poller.safety_net
        finished_before = sum(s in FINAL_STATUSES for s in rig.statuses(jobs))
        # No delivery gets through now, and at most two were confirmed late (one per running
        # slot), so a third job finishing within seconds shows that polling took over.
        await wait_for(
            lambda: sum(s in FINAL_STATUSES for s in rig.statuses(jobs)) >= finished_before + 3,
            10,
        )
        assert sandbox.stats["webhooks_failed"] >= 1

        await tunnel.start()
        await wait_for(lambda: rig.bridge.status.state is BridgeState.WEBHOOKS, 15)
        assert rig.bridge.poller.safety_net
        await wait_for(lambda: rig.all_final(jobs), 60)
        statuses = rig.statuses(jobs)
        downloads = [rig.downloads_started(job) for job in jobs]
        outputs = rig.store.outputs()
        states = rig.states()
        stats = sandbox.stats

    assert statuses == [JobStatus.SUCCEEDED] * 12
    assert downloads == [1] * 12
    assert sorted(output.job_id for output in outputs) == sorted(job.id for job in jobs)
    assert set(stats["runs_per_job"].values()) == {1}
    assert states[-3:] == [BridgeState.WEBHOOKS, BridgeState.TUNNEL_DOWN, BridgeState.WEBHOOKS]


@pytest.mark.asyncio
async def test_unreachable_tunnel_url_polls(tmp_path: Path) -> None:
    # A port nothing listens on: bind one, note it, close it.
    tunnel = FakeTunnel("")
    await tunnel.start()
    dead_url = tunnel.public_url
    await tunnel.stop()
    async with cloud_rig(
        tmp_path, public_base_url=dead_url, tunnel_check_interval=0.3, speed=20
    ) as rig:
        await wait_for(lambda: rig.bridge.status.state is BridgeState.TUNNEL_DOWN, 15)
        status = rig.bridge.status
        local_url = rig.receiver.local_url
        jobs = rig.queue(2)
        await wait_for(lambda: rig.all_final(jobs), 30)
        statuses = rig.statuses(jobs)

    assert "did not answer" in status.message
    assert local_url in status.message
    assert "Polling" in status.message
    assert statuses == [JobStatus.SUCCEEDED] * 2


# Start-up --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reconcile_marks_unknown_job_lost(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path, speed=20) as sandbox:
        async with cloud_rig(tmp_path, mode="webhook", sandbox=sandbox) as rig:
            rig.scheduler.pause()
            known, unknown = rig.queue(2)
        # While the app is closed, one job runs on the service, and the other was accepted
        # under an id the service has since forgotten.
        store = Store.open(tmp_path / "data" / "db.sqlite3")
        async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
            response = await http.post(
                "/v1/jobs",
                json={"prompt": store.get_job(known.id).prompt},
                headers={"Authorization": f"Bearer {sandbox.api_key}"},
            )
        remote_id = response.json()["job_id"]
        for job_id, remote in ((known.id, remote_id), (unknown.id, str(uuid.uuid4()))):
            store.transition(job_id, JobStatus.SUBMITTING, attempts=1)
            store.transition(job_id, JobStatus.SUBMITTED, remote_id=remote)
        store.close()
        await wait_for(lambda: sandbox.stats["jobs_by_status"]["completed"] == 1, 20)

        async with cloud_rig(tmp_path, mode="webhook", sandbox=sandbox) as rig:
            await wait_for(lambda: rig.all_final([known, unknown]), 20)
            lost = rig.store.get_job(unknown.id)
            done = rig.store.get_job(known.id)
            reads = rig.client.requests["status"]

    assert lost.status is JobStatus.LOST
    assert lost.error_message and "no longer knows" in lost.error_message
    assert done.status is JobStatus.SUCCEEDED
    assert reads == 2


@pytest.mark.asyncio
async def test_pending_delivery_applied_at_start(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path, speed=20) as sandbox:
        async with cloud_rig(tmp_path, mode="webhook", sandbox=sandbox) as rig:
            rig.scheduler.pause()
            [job] = rig.queue(1)
        # A run recorded the delivery and was killed before it applied it.
        store = Store.open(tmp_path / "data" / "db.sqlite3")
        async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
            response = await http.post(
                "/v1/jobs",
                json={"prompt": store.get_job(job.id).prompt},
                headers={"Authorization": f"Bearer {sandbox.api_key}"},
            )
            remote_id = response.json()["job_id"]
            await wait_for(lambda: sandbox.stats["jobs_by_status"]["completed"] == 1, 20)
            body = (
                await http.get(
                    f"/v1/jobs/{remote_id}",
                    headers={"Authorization": f"Bearer {sandbox.api_key}"},
                )
            ).text
        store.transition(job.id, JobStatus.SUBMITTING, attempts=1)
        store.transition(job.id, JobStatus.SUBMITTED, remote_id=remote_id)
        store.record_webhook(job.id, body)
        store.close()

        async with cloud_rig(tmp_path, mode="webhook", sandbox=sandbox) as rig:
            await wait_for(lambda: rig.all_final([job]), 20)
            await wait_for(lambda: not rig.store.pending_webhooks(), 5)
            final = rig.store.get_job(job.id)
            outputs = rig.store.outputs(job.id)
            downloads = rig.downloads_started(job)

    assert final.status is JobStatus.SUCCEEDED
    assert len(outputs) == 1
    assert downloads == 1


# The poller on its own ---------------------------------------------------------------------


class ScriptedBackend:
    """A backend whose status reads return what a test sets, and count themselves."""

    kind = "cmfy"

    def __init__(self, rate_limit: int = 600) -> None:
        self.requests: RequestCounts = RequestCounts()
        self.jobs: dict[str, RemoteJob] = {}
        self.errors: list[Exception] = []
        self.reading = 0
        self.max_reading = 0
        self._limits = Limits(rate_limit=rate_limit, concurrent_limit=2)

    @property
    def limits(self) -> Limits:
        return self._limits

    async def status(self, remote_id: str) -> RemoteJob:
        self.requests["status"] += 1
        self.reading += 1
        self.max_reading = max(self.max_reading, self.reading)
        try:
            await asyncio.sleep(0.01)
        finally:
            self.reading -= 1
        if self.errors:
            raise self.errors.pop(0)
        if remote_id not in self.jobs:
            raise NotFoundError("not found", status=404, code="job_not_found")
        return self.jobs[remote_id]


def _poller(backend: ScriptedBackend) -> tuple[Poller, list[tuple[int, RemoteJob | None]]]:
    reports: list[tuple[int, RemoteJob | None]] = []
    poller = Poller(backend, lambda job_id, remote: reports.append((job_id, remote)))
    return poller, reports


def test_read_budget_caps_trailing_minute() -> None:
    now = [0.0]
    budget = ReadBudget(0.5, lambda: 6, clock=lambda: now[0])
    assert budget.capacity == 3
    for _ in range(3):
        assert budget.delay_needed() == 0.0
        budget.record()
    assert budget.delay_needed() == pytest.approx(60.0)
    now[0] = 59.0
    assert budget.delay_needed() == pytest.approx(1.0)
    now[0] = 60.0
    assert budget.delay_needed() == 0.0
    assert ReadBudget(0.5, lambda: 0).capacity is None


def test_interval_grows_with_age_and_wait() -> None:
    now = [100.0]
    backend = ScriptedBackend(rate_limit=6000)
    poller = Poller(backend, lambda _job, _remote: None, clock=lambda: now[0])
    poller.watch(1, "a")
    poller.watch(2, "b", estimated_wait=40.0)
    first = poller._watches[1]
    waiting = poller._watches[2]
    assert first.next_poll == pytest.approx(100.0 + MIN_INTERVAL)
    assert poller.interval_for(waiting, 100.0) > poller.interval_for(first, 100.0)
    assert poller.interval_for(first, 160.0) > poller.interval_for(first, 110.0)
    poller.set_safety_net(True)
    assert poller.interval_for(first, 100.0) == SAFETY_NET_INTERVAL
    poller.set_urgent(1)
    assert poller.interval_for(first, 100.0) < SAFETY_NET_INTERVAL


def test_interval_spreads_reads_over_budget() -> None:
    backend = ScriptedBackend(rate_limit=60)  # 30 reads a minute: one every 2 s
    poller = Poller(backend, lambda _job, _remote: None)
    for job_id in range(10):
        poller.watch(job_id, f"r{job_id}")
    watch = poller._watches[0]
    assert poller.interval_for(watch, watch.since) == pytest.approx(20.0)


@pytest.mark.asyncio
async def test_poller_reads_and_stops_after_final() -> None:
    backend = ScriptedBackend()
    backend.jobs["a"] = RemoteJob(job_id="a", status="running")
    poller, reports = _poller(backend)
    poller.start()
    try:
        poller.watch(1, "a")
        await wait_for(lambda: len(reports) == 1, 5)
        backend.jobs["a"] = RemoteJob(job_id="a", status="completed")
        await wait_for(lambda: len(reports) == 2, 5)
        await asyncio.sleep(1.5)
    finally:
        await poller.stop()
    assert [remote.status for _job, remote in reports if remote] == ["running", "completed"]
    assert not poller.is_watched(1)
    assert poller.reads == 2


@pytest.mark.asyncio
async def test_poller_reports_unknown_job_as_none() -> None:
    backend = ScriptedBackend()
    poller, reports = _poller(backend)
    poller.watch(1, "gone")
    await poller.read_now(1)
    assert reports == [(1, None)]
    assert not poller.is_watched(1)


@pytest.mark.asyncio
async def test_poller_backs_off_on_errors() -> None:
    backend = ScriptedBackend()
    backend.jobs["a"] = RemoteJob(job_id="a", status="running")
    errors: list[Exception] = []
    poller = Poller(
        backend,
        lambda _job, _remote: None,
        on_error=lambda _job, error: errors.append(error),
    )
    poller.watch(1, "a")
    watch = poller._watches[1]
    base = poller.interval_for(watch, watch.since)
    backend.errors = [NetworkError("connection refused"), NetworkError("connection refused")]
    await poller.read_now(1)
    await poller.read_now(1)
    assert watch.failures == 2
    assert watch.next_poll - watch.last_read >= 4 * base
    assert [type(error) for error in errors] == [NetworkError, NetworkError]

    backend.errors = [RateLimitError("slow down", status=429, retry_after=3.0)]
    before = time.monotonic()
    await poller.read_now(1)
    assert poller._hold_until >= before + 3.0
    # The next read waits for the Retry-After before it is sent.
    backend.errors = []
    started = time.monotonic()
    await poller.read_now(1)
    assert time.monotonic() - started >= 2.5
    assert watch.failures == 0


@pytest.mark.asyncio
async def test_read_now_waits_for_read_under_way() -> None:
    backend = ScriptedBackend()
    backend.jobs["a"] = RemoteJob(job_id="a", status="running")
    poller, reports = _poller(backend)
    poller.watch(1, "a")
    await asyncio.gather(poller.read_now(1), poller.read_now(1), poller.read_now(1))
    assert poller.reads == 3
    assert len(reports) == 3
    assert backend.max_reading == 1


@pytest.mark.asyncio
async def test_read_now_waits_for_budget() -> None:
    now = [0.0]
    backend = ScriptedBackend(rate_limit=4)  # half of it: 2 reads a minute
    backend.jobs["a"] = RemoteJob(job_id="a", status="running")
    poller = Poller(backend, lambda _job, _remote: None, clock=lambda: now[0])
    poller.watch(1, "a")
    await poller.read_now(1)
    await poller.read_now(1)
    third = asyncio.create_task(poller.read_now(1))
    await asyncio.sleep(0.3)
    assert backend.requests["status"] == 2
    assert not third.done()
    now[0] = 60.0
    await asyncio.wait_for(third, 3)
    assert backend.requests["status"] == 3
