"""The ComfyUI websocket bridge against a fake ComfyUI server on loopback, and the scheduler
driving a ComfyUI server end to end."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

from cmfy_desk.backends.base import RemoteJob
from cmfy_desk.backends.comfyui import ComfyUIClient
from cmfy_desk.bridge.comfyui_bridge import ComfyUIBridge
from cmfy_desk.bridge.events import (
    BridgeChanged,
    BridgeEvent,
    BridgeState,
    JobPreview,
    JobProgress,
)
from cmfy_desk.outputs.download import Downloader
from cmfy_desk.scheduler import EngineEvent, JobChanged, Scheduler
from cmfy_desk.store import Batch, Job, JobStatus, Store
from tests.fake_comfyui import FakeComfyUI, running_fake_comfyui, txt2img_prompt
from tests.helpers import wait_for

CONNECTION = "studio"
CLIENT_ID = "desk-bridge"


class Recorder:
    """Collects what the bridge applies and emits."""

    def __init__(self) -> None:
        self.applied: list[tuple[int, RemoteJob | None]] = []
        self.events: list[BridgeEvent] = []

    def apply(self, job_id: int, remote: RemoteJob | None) -> None:
        self.applied.append((job_id, remote))

    def emit(self, event: BridgeEvent) -> None:
        self.events.append(event)

    def statuses(self, job_id: int) -> list[str | None]:
        return [remote.status if remote else None for jid, remote in self.applied if jid == job_id]

    def last(self, job_id: int) -> RemoteJob | None:
        return [remote for jid, remote in self.applied if jid == job_id][-1]

    def final(self, job_id: int) -> bool:
        statuses = self.statuses(job_id)
        return bool(statuses) and statuses[-1] in (None, "completed", "failed", "cancelled")

    def progress(self, job_id: int) -> list[JobProgress]:
        return [e for e in self.events if isinstance(e, JobProgress) and e.job_id == job_id]

    def previews(self, job_id: int) -> list[JobPreview]:
        return [e for e in self.events if isinstance(e, JobPreview) and e.job_id == job_id]

    def states(self) -> list[BridgeState]:
        """Return the bridge's states in order, each change once (a new message while the
        socket is down emits the same state again)."""
        states: list[BridgeState] = []
        for event in self.events:
            if isinstance(event, BridgeChanged) and event.status.state not in states[-1:]:
                states.append(event.status.state)
        return states


@pytest_asyncio.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeComfyUI]:
    async with running_fake_comfyui(tmp_path / "comfyui") as server:
        yield server


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store.open(tmp_path / "desk.sqlite3")
    yield store
    store.close()


@contextlib.asynccontextmanager
async def running_bridge(
    fake: FakeComfyUI,
    store: Store,
    recorder: Recorder,
    auth_header: tuple[str, str] | None = None,
    **options: Any,
) -> AsyncIterator[tuple[ComfyUIBridge, ComfyUIClient]]:
    client = ComfyUIClient(fake.base_url, client_id=CLIENT_ID, auth_header=auth_header)
    options.setdefault("reconnect_max_delay", 0.2)
    bridge = ComfyUIBridge(
        client, store, recorder.apply, recorder.emit, connection=CONNECTION, **options
    )
    await bridge.start()
    try:
        yield bridge, client
    finally:
        await bridge.stop()
        await client.aclose()


def submitted_job(
    store: Store, prompt: dict[str, Any], remote_id: str, connection: str = CONNECTION
) -> Job:
    """Store a job as the scheduler leaves it after a submission."""
    _batch, jobs = store.add_batch(
        name=f"batch {remote_id}",
        workflow_name="fox",
        workflow_path="fox.json",
        connection=connection,
        seed_mode="fixed",
        output_dir="out",
        jobs=[(prompt, "hash", 1)],
    )
    store.transition(jobs[0].id, JobStatus.SUBMITTING)
    return store.transition(jobs[0].id, JobStatus.SUBMITTED, remote_id=remote_id)


async def submit_and_watch(
    bridge: ComfyUIBridge, client: ComfyUIClient, store: Store, key: str, **prompt_options: Any
) -> Job:
    prompt = txt2img_prompt(**prompt_options)
    submitted = await client.submit(prompt, key)
    job = submitted_job(store, prompt, submitted.job_id)
    bridge.watch(job)
    return job


async def connected(bridge: ComfyUIBridge) -> None:
    await wait_for(lambda: bridge.status.state is BridgeState.SOCKET, 10.0)


@pytest.mark.asyncio
async def test_progress_and_previews_reach_events(fake: FakeComfyUI, store: Store) -> None:
    recorder = Recorder()
    async with running_bridge(fake, store, recorder) as (bridge, client):
        await connected(bridge)
        first = await submit_and_watch(bridge, client, store, "first", seed=1, steps=3)
        await wait_for(lambda: recorder.final(first.id), 10.0)
        second = await submit_and_watch(bridge, client, store, "second", seed=2, steps=3)
        await wait_for(lambda: recorder.final(second.id), 10.0)

    assert recorder.statuses(first.id) == ["running", "completed"]
    completed = recorder.last(first.id)
    assert completed is not None
    assert len(completed.images) == 1
    progress = recorder.progress(first.id)
    sampler_steps = [(p.value, p.maximum) for p in progress if p.maximum > 0]
    assert sampler_steps == [(1, 3), (2, 3), (3, 3)]
    assert {p.node_class for p in progress if p.maximum > 0} == {"KSampler"}
    assert {p.nodes_total for p in progress} == {7}
    done_counts = [p.nodes_done for p in progress]
    assert done_counts == sorted(done_counts)
    assert done_counts[-1] == 6
    previews = recorder.previews(first.id)
    assert len(previews) == 3
    assert all(p.mime == "image/jpeg" and p.image.startswith(b"\xff\xd8") for p in previews)
    # The second run reuses the loader, the latent and both text encodings.
    assert recorder.progress(second.id)[0].nodes_done == 4


@pytest.mark.asyncio
async def test_legacy_previews_follow_running_prompt(fake: FakeComfyUI, store: Store) -> None:
    fake.legacy_previews = True
    recorder = Recorder()
    async with running_bridge(fake, store, recorder) as (bridge, client):
        await connected(bridge)
        job = await submit_and_watch(bridge, client, store, "legacy", steps=2)
        await wait_for(lambda: recorder.final(job.id), 10.0)

    assert len(recorder.previews(job.id)) == 2


@pytest.mark.asyncio
async def test_events_of_other_prompts_are_ignored(fake: FakeComfyUI, store: Store) -> None:
    recorder = Recorder()
    other = ComfyUIClient(fake.base_url, client_id="someone-else")
    try:
        async with running_bridge(fake, store, recorder) as (bridge, client):
            await connected(bridge)
            theirs = await other.submit(txt2img_prompt(seed=7, prefix="theirs"), "theirs")
            unwatched = await client.submit(txt2img_prompt(seed=8), "not-watched")
            job = await submit_and_watch(bridge, client, store, "watched", seed=9)
            await wait_for(lambda: recorder.final(job.id), 10.0)
    finally:
        await other.aclose()

    assert {job_id for job_id, _remote in recorder.applied} == {job.id}
    job_events = [e for e in recorder.events if not isinstance(e, BridgeChanged)]
    assert {e.job_id for e in job_events} == {job.id}  # type: ignore[union-attr]
    assert fake.runs[theirs.job_id] == 1
    assert fake.runs[unwatched.job_id] == 1


@pytest.mark.asyncio
async def test_events_before_watch_are_not_lost(fake: FakeComfyUI, store: Store) -> None:
    recorder = Recorder()
    async with running_bridge(fake, store, recorder) as (bridge, client):
        await connected(bridge)
        prompt = txt2img_prompt()
        submitted = await client.submit(prompt, "early")
        # The socket delivers frames in order: once the next job has ended, every frame of
        # the first one has arrived, before anything watched it.
        later = await submit_and_watch(bridge, client, store, "later", seed=2)
        await wait_for(lambda: recorder.final(later.id), 10.0)
        job = submitted_job(store, prompt, submitted.job_id)
        bridge.watch(job)
        await wait_for(lambda: recorder.final(job.id), 10.0)

    assert recorder.statuses(job.id) == ["running", "completed"]
    assert recorder.progress(job.id)


@pytest.mark.asyncio
async def test_dropped_socket_reconnects_and_reconciles(fake: FakeComfyUI, store: Store) -> None:
    recorder = Recorder()
    # Reads while the socket is down are pushed out of the test, so only the read on
    # reconnect can report the first job's end.
    async with running_bridge(fake, store, recorder, poll_interval=60.0) as (bridge, client):
        await connected(bridge)
        first = await submit_and_watch(bridge, client, store, "before-drop", steps=15)
        await wait_for(lambda: "running" in recorder.statuses(first.id), 10.0)
        fake.reject_websockets = True
        await fake.drop_websockets()
        await wait_for(lambda: bridge.status.state is BridgeState.SOCKET_DOWN, 10.0)
        await wait_for(lambda: fake.history_entry(str(first.remote_id)) is not None)
        finished_while_down = recorder.final(first.id)
        fake.reject_websockets = False
        await wait_for(lambda: recorder.final(first.id), 10.0)
        second = await submit_and_watch(bridge, client, store, "after-drop", seed=3)
        await wait_for(lambda: recorder.final(second.id), 10.0)
        down_message = next(
            e.status.message
            for e in recorder.events
            if isinstance(e, BridgeChanged) and e.status.state is BridgeState.SOCKET_DOWN
        )

    assert finished_while_down is False
    assert recorder.statuses(first.id) == ["running", "completed"]
    assert recorder.statuses(second.id) == ["running", "completed"]
    assert recorder.progress(second.id)
    assert recorder.states()[:3] == [
        BridgeState.SOCKET,
        BridgeState.SOCKET_DOWN,
        BridgeState.SOCKET,
    ]
    assert "Reconnecting" in down_message
    assert fake.websocket_connects[CLIENT_ID] >= 2


@pytest.mark.asyncio
async def test_silent_socket_falls_back_to_history(fake: FakeComfyUI, store: Store) -> None:
    recorder = Recorder()
    options = {"silence_timeout": 0.3, "poll_interval": 0.1}
    async with running_bridge(fake, store, recorder, **options) as (bridge, client):
        await connected(bridge)
        fake.muted = True
        job = await submit_and_watch(bridge, client, store, "silent")
        await wait_for(lambda: recorder.final(job.id), 10.0)
        silent_messages = [
            e.status.message for e in recorder.events if isinstance(e, BridgeChanged)
        ]

    assert recorder.statuses(job.id)[-1] == "completed"
    assert recorder.progress(job.id) == []
    assert bridge.status.status_reads >= 1
    assert any("no event for" in message for message in silent_messages)


@pytest.mark.asyncio
async def test_socket_down_reads_status_until_done(fake: FakeComfyUI, store: Store) -> None:
    fake.reject_websockets = True
    recorder = Recorder()
    async with running_bridge(fake, store, recorder, poll_interval=0.1) as (bridge, client):
        job = await submit_and_watch(bridge, client, store, "no-socket")
        await wait_for(lambda: recorder.final(job.id), 10.0)
        status = bridge.status

    assert recorder.statuses(job.id)[-1] == "completed"
    assert status.state is BridgeState.SOCKET_DOWN
    assert "HTTP 503" in status.message


@pytest.mark.asyncio
async def test_restarted_server_marks_job_lost(fake: FakeComfyUI, store: Store) -> None:
    recorder = Recorder()
    async with running_bridge(fake, store, recorder, poll_interval=60.0) as (bridge, client):
        await connected(bridge)
        fake.pause()
        job = await submit_and_watch(bridge, client, store, "forgotten")
        await fake.restart()
        fake.resume()
        await wait_for(lambda: recorder.final(job.id), 10.0)

    assert recorder.statuses(job.id) == [None]


@pytest.mark.asyncio
async def test_failure_and_interrupt_are_applied(fake: FakeComfyUI, store: Store) -> None:
    fake.fail_node("8", "RuntimeError", "out of memory")
    recorder = Recorder()
    async with running_bridge(fake, store, recorder, poll_interval=60.0) as (bridge, client):
        await connected(bridge)
        failing = await submit_and_watch(bridge, client, store, "failing")
        await wait_for(lambda: recorder.final(failing.id), 10.0)
        fake.failures.clear()
        interrupted = await submit_and_watch(bridge, client, store, "stopped", steps=200)
        await wait_for(lambda: "running" in recorder.statuses(interrupted.id), 10.0)
        await client.cancel(str(interrupted.remote_id))
        await wait_for(lambda: recorder.final(interrupted.id), 10.0)

    failed = recorder.last(failing.id)
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error_message == "node 8 (VAEDecode) raised RuntimeError: out of memory"
    assert failed.error_details is not None
    assert "nodes.py" in failed.error_details
    assert recorder.statuses(interrupted.id)[-1] == "cancelled"


@pytest.mark.asyncio
async def test_run_without_history_keeps_event_outputs(fake: FakeComfyUI, store: Store) -> None:
    fake.record_history = False
    recorder = Recorder()
    async with running_bridge(fake, store, recorder, poll_interval=60.0) as (bridge, client):
        await connected(bridge)
        job = await submit_and_watch(bridge, client, store, "no-history", prefix="kept")
        await wait_for(lambda: recorder.final(job.id), 10.0)

    completed = recorder.last(job.id)
    assert completed is not None
    assert completed.status == "completed"
    assert len(completed.images) == 1
    assert "filename=kept_" in completed.images[0]


@pytest.mark.asyncio
async def test_auth_header_reaches_the_websocket(fake: FakeComfyUI, store: Store) -> None:
    fake.required_auth = ("Authorization", "Bearer studio-token")
    recorder = Recorder()
    header = ("Authorization", "Bearer studio-token")
    async with running_bridge(fake, store, recorder, auth_header=header) as (bridge, client):
        await connected(bridge)
        job = await submit_and_watch(bridge, client, store, "with-auth")
        await wait_for(lambda: recorder.final(job.id), 10.0)
    wrong = Recorder()
    async with running_bridge(fake, store, wrong, auth_header=("Authorization", "Bearer x")) as (
        bridge,
        _client,
    ):
        await wait_for(lambda: "HTTP 401" in bridge.status.message, 10.0)
        status = bridge.status

    assert recorder.statuses(job.id)[-1] == "completed"
    assert fake.headers_of("/ws")[0]["Authorization"] == "Bearer studio-token"
    assert status.state is BridgeState.SOCKET_DOWN
    assert "auth header" in status.message


@pytest.mark.asyncio
async def test_start_reconciles_stored_jobs(fake: FakeComfyUI, store: Store) -> None:
    client = ComfyUIClient(fake.base_url, client_id=CLIENT_ID)
    prompt = txt2img_prompt()
    try:
        submitted = await client.submit(prompt, "from-last-run")
        await wait_for(lambda: fake.history_entry(submitted.job_id) is not None, 10.0)
    finally:
        await client.aclose()
    ours = submitted_job(store, prompt, submitted.job_id)
    elsewhere = submitted_job(store, prompt, "other-prompt", connection="cloud")
    recorder = Recorder()

    async with running_bridge(fake, store, recorder) as (bridge, _client):
        await wait_for(lambda: recorder.final(ours.id), 10.0)
        watched = bridge.watched

    assert recorder.statuses(ours.id) == ["completed"]
    assert recorder.statuses(elsewhere.id) == []
    assert watched == 0
    assert recorder.states()[-1] is BridgeState.STOPPED
    assert bridge.webhook_url_for(ours) is None


@dataclass
class Engine:
    """The scheduler, the bridge and the store wired as the app wires them."""

    store: Store
    scheduler: Scheduler
    bridge: ComfyUIBridge
    bridge_events: list[BridgeEvent]
    engine_events: list[EngineEvent]


@contextlib.asynccontextmanager
async def running_engine(tmp_path: Path, fake: FakeComfyUI) -> AsyncIterator[Engine]:
    store = Store.open(tmp_path / "engine.sqlite3")
    client = ComfyUIClient(fake.base_url, client_id=CLIENT_ID, queue_depth=1)
    downloader = Downloader()
    bridge_events: list[BridgeEvent] = []
    engine_events: list[EngineEvent] = []

    def on_engine_event(event: EngineEvent) -> None:
        engine_events.append(event)
        if isinstance(event, JobChanged):
            job = event.job
            if job.status in (JobStatus.SUBMITTED, JobStatus.RUNNING) and job.remote_id:
                bridge.watch(job)
            else:
                bridge.unwatch(job.id)

    scheduler = Scheduler(store, client, downloader, on_engine_event, connection=CONNECTION)
    bridge = ComfyUIBridge(
        client, store, scheduler.apply_remote, bridge_events.append, connection=CONNECTION
    )
    scheduler.set_webhook_url_for(bridge.webhook_url_for)
    # The scheduler recovers unfinished jobs first, so the bridge's reads apply to them.
    await scheduler.start()
    await bridge.start()
    try:
        yield Engine(store, scheduler, bridge, bridge_events, engine_events)
    finally:
        await scheduler.stop()
        await bridge.stop()
        await client.aclose()
        await downloader.aclose()
        store.close()


def add_batch(engine: Engine, output_dir: Path, seeds: list[int]) -> tuple[Batch, list[Job]]:
    batch, jobs = engine.store.add_batch(
        name="fox",
        workflow_name="fox",
        workflow_path="fox.json",
        connection=CONNECTION,
        seed_mode="increment",
        output_dir=str(output_dir),
        jobs=[(txt2img_prompt(seed=seed), f"hash-{seed}", seed) for seed in seeds],
    )
    engine.scheduler.wake()
    return batch, jobs


@pytest.mark.asyncio
async def test_scheduler_runs_batch_on_comfyui(tmp_path: Path, fake: FakeComfyUI) -> None:
    output_dir = tmp_path / "out" / "fox"
    async with running_engine(tmp_path, fake) as engine:
        batch, jobs = add_batch(engine, output_dir, [11, 12, 13])
        await wait_for(lambda: all(engine.store.get_job(job.id).is_final for job in jobs), 30.0)
        finished = engine.store.jobs_of_batch(batch.id)
        outputs = engine.store.outputs()
        bridge_events = engine.bridge_events

    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 3
    assert len(fake.submissions) == 3
    assert sorted(fake.runs.values()) == [1, 1, 1]
    assert {job.remote_id for job in finished} == set(fake.runs)
    assert len(outputs) == 3
    for job, output in zip(finished, sorted(outputs, key=lambda o: o.job_id), strict=True):
        path = Path(output.local_path)
        assert path.parent == output_dir
        with Image.open(path) as image:
            assert image.size == (64, 48)
            embedded = json.loads(image.text["prompt"])
        assert embedded["3"]["inputs"]["seed"] == job.seed
        assert output.size == path.stat().st_size
    assert not list(output_dir.glob("*.part"))
    assert any(isinstance(event, JobProgress) for event in bridge_events)
    assert all(job.execution_time_ms is not None for job in finished)


@pytest.mark.asyncio
async def test_scheduler_marks_missing_output_partial(tmp_path: Path, fake: FakeComfyUI) -> None:
    fake.empty_outputs.add("SaveImage")
    async with running_engine(tmp_path, fake) as engine:
        prompt = txt2img_prompt(seed=4)
        prompt["12"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
        _batch, jobs = engine.store.add_batch(
            name="partial",
            workflow_name="fox",
            workflow_path="fox.json",
            connection=CONNECTION,
            seed_mode="fixed",
            output_dir=str(tmp_path / "out" / "partial"),
            jobs=[(prompt, "hash-partial", 4)],
        )
        engine.scheduler.wake()
        await wait_for(lambda: engine.store.get_job(jobs[0].id).is_final, 30.0)
        job = engine.store.get_job(jobs[0].id)
        outputs = engine.store.outputs(job.id)

    assert job.status is JobStatus.PARTIAL
    assert job.error_message == "Some output nodes produced nothing: node 9 (SaveImage)"
    assert len(outputs) == 1
    assert Path(outputs[0].local_path).is_file()
