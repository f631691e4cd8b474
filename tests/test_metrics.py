"""Figures, warnings, the production checklist and CSV export over a real store whose job times
are set by the test, and one batch through the built-in sandbox for figures end to end."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.metrics import (
    JOB_HISTORY_COLUMNS,
    METRICS_CSV_COLUMNS,
    MIN_THROUGHPUT_WINDOW_SECONDS,
    REQUEUE_CODE,
    AdviceCode,
    CacheSource,
    CheckCode,
    CheckState,
    ConnectionFacts,
    Distribution,
    FixAction,
    Histogram,
    MetricsScope,
    RateLimitSource,
    compute_metrics,
    connection_facts,
    every_scope,
    export_job_history_csv,
    export_metrics_csv,
    infer_cache_lookups,
    iso_time,
    load_timings,
    parse_iso,
    peak_running,
    percentile,
    production_checklist,
)
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import JobStatus, Store
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file
from tests.helpers import wait_for

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
SD15 = "https://huggingface.co/org/sd15/resolve/main/v1-5.safetensors"
SDXL = "https://huggingface.co/org/sdxl/resolve/main/sd_xl_base.safetensors"
SD15_DOWNLOAD = SD15 + "?download=true"
SD15_MIRROR = "https://huggingface.co/mirror/sd15/resolve/main/v1-5.safetensors"


def graph(model: str = SD15, *, unused: bool = False) -> dict[str, Any]:
    nodes: dict[str, Any] = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": model}},
        "2": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512}},
        "3": {
            "class_type": "KSampler",
            "inputs": {"model": ["1", 0], "latent_image": ["2", 0], "seed": 1, "steps": 20},
        },
        "4": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["1", 2]}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0]}},
    }
    if unused:
        nodes["9"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["1", 1]}}
    return nodes


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cmfy-desk.sqlite3")
    try:
        yield opened
    finally:
        opened.close()


def add_batch(
    store: Store,
    count: int,
    *,
    connection: str = "cloud",
    name: str = "foxes",
    models: list[str] | None = None,
    unused: bool = False,
) -> list[int]:
    models = models or [SD15] * count
    _batch, jobs = store.add_batch(
        name=name,
        workflow_name=name,
        workflow_path=f"/{name}.json",
        connection=connection,
        seed_mode="increment",
        output_dir=name,
        jobs=[
            (graph(model, unused=unused), f"hash-{name}-{i}", i) for i, model in enumerate(models)
        ],
        model_keys=models,
    )
    return [job.id for job in jobs]


def set_event_time(store: Store, job_id: int, status: JobStatus, at: float) -> None:
    store.connection.execute(
        "UPDATE job_events SET at = ? WHERE id = (SELECT MAX(id) FROM job_events"
        " WHERE job_id = ? AND status = ?)",
        (at, job_id, status.value),
    )


def run_job(
    store: Store,
    job_id: int,
    *,
    submitted: float,
    started: float,
    completed: float,
    finished: float,
    execution_ms: int | None = None,
    remote: bool = True,
    status: JobStatus = JobStatus.SUCCEEDED,
    error_code: str | None = None,
) -> None:
    """Take a queued job to ``status`` with the given times (Unix seconds)."""
    store.transition(job_id, JobStatus.SUBMITTING, attempts=1)
    set_event_time(store, job_id, JobStatus.SUBMITTING, submitted - 0.01)
    store.transition(job_id, JobStatus.SUBMITTED, submitted_at=submitted, remote_id=f"r{job_id}")
    store.transition(job_id, JobStatus.RUNNING, started_at=started)
    remote_times: dict[str, Any] = {}
    if remote:
        remote_times = {
            "remote_created_at": iso_time(submitted),
            "remote_started_at": iso_time(started),
            "remote_completed_at": iso_time(completed),
        }
    if status is JobStatus.FAILED:
        store.transition(
            job_id,
            JobStatus.FAILED,
            finished_at=finished,
            error_code=error_code or "execution_error",
            error_message="The job failed on the server.",
            execution_time_ms=execution_ms,
            **remote_times,
        )
        return
    store.transition(job_id, JobStatus.DOWNLOADING, execution_time_ms=execution_ms, **remote_times)
    set_event_time(store, job_id, JobStatus.DOWNLOADING, completed)
    store.transition(job_id, status, finished_at=finished)


def requeue(store: Store, job_id: int, *, at: float, resubmitted_after: float) -> None:
    """Record a 429 that put a job back in the queue, and its next submission."""
    store.transition(job_id, JobStatus.SUBMITTING, attempts=1)
    set_event_time(store, job_id, JobStatus.SUBMITTING, at - 0.2)
    store.transition(job_id, JobStatus.QUEUED, attempts=0)
    set_event_time(store, job_id, JobStatus.QUEUED, at)
    store.transition(job_id, JobStatus.SUBMITTING, attempts=1)
    set_event_time(store, job_id, JobStatus.SUBMITTING, at + resubmitted_after)
    store.transition(job_id, JobStatus.QUEUED, attempts=0)
    set_event_time(store, job_id, JobStatus.QUEUED, at + resubmitted_after + 0.2)


# Figures ----------------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 95) == pytest.approx(9.55)
    assert percentile([4.0], 95) == 4.0
    with pytest.raises(ValueError, match="at least one value"):
        percentile([], 50)


def test_distribution_of_values_and_of_none() -> None:
    filled = Distribution.of([3.0, 1.0, 2.0, 10.0])
    empty = Distribution.of([])
    assert filled.count == 4
    assert filled.mean == pytest.approx(4.0)
    assert filled.p50 == pytest.approx(2.5)
    assert filled.maximum == 10.0
    assert empty == Distribution(0, None, None, None, None)


def test_iso_times_round_trip() -> None:
    assert iso_time(T0) == "2023-11-14T22:13:20.000Z"
    assert parse_iso("2023-11-14T22:13:20.000Z") == T0
    assert parse_iso("2023-11-14T23:13:20+01:00") == T0
    assert parse_iso("2023-11-14T22:13:20") == T0
    assert parse_iso("yesterday") is None
    assert iso_time(None) == ""


def test_durations_prefer_service_times(store: Store) -> None:
    remote_job, local_job = add_batch(store, 2)
    # The service started the job 4 s after creating it; the local start was read 2 s late.
    run_job(
        store,
        remote_job,
        submitted=T0,
        started=T0 + 4,
        completed=T0 + 10,
        finished=T0 + 11,
        execution_ms=5000,
    )
    store.update_job(remote_job, started_at=T0 + 6)
    run_job(
        store,
        local_job,
        submitted=T0,
        started=T0 + 2,
        completed=T0 + 9,
        finished=T0 + 12,
        remote=False,
    )

    timings = {t.job_id: t for t in load_timings(store, MetricsScope())}

    assert timings[remote_job].queue_seconds == pytest.approx(4.0)
    assert timings[remote_job].execution_seconds == pytest.approx(5.0)
    assert timings[remote_job].overhead_seconds == pytest.approx(1.0)
    assert timings[remote_job].total_seconds == pytest.approx(11.0)
    assert timings[local_job].queue_seconds == pytest.approx(2.0)
    assert timings[local_job].execution_seconds == pytest.approx(7.0)
    assert timings[local_job].overhead_seconds is None
    assert timings[local_job].total_seconds == pytest.approx(12.0)


def test_figures_per_connection_batch_and_window(store: Store) -> None:
    cloud = add_batch(store, 4, connection="cloud", name="foxes")
    server = add_batch(store, 2, connection="studio", name="owls")
    for index, job_id in enumerate(cloud):
        start = T0 + 60 * index
        run_job(
            store,
            job_id,
            submitted=start,
            started=start + 10,
            completed=start + 20,
            finished=start + 21,
            execution_ms=9000,
        )
    for job_id in server:
        run_job(
            store,
            job_id,
            submitted=T0 + 3600,
            started=T0 + 3601,
            completed=T0 + 3603,
            finished=T0 + 3604,
        )

    everything = compute_metrics(store, MetricsScope(), now=T0 + 4000)
    cloud_only = compute_metrics(store, MetricsScope(connection="cloud"), now=T0 + 4000)
    owls = compute_metrics(
        store, MetricsScope(connection="studio", batch_id=store.batches()[1].id), now=T0 + 4000
    )
    last_hour = compute_metrics(store, MetricsScope(since=T0 + 3000), now=T0 + 4000)

    assert everything.jobs == 6
    assert cloud_only.jobs == 4
    assert cloud_only.queue.mean == pytest.approx(10.0)
    assert cloud_only.execution.p50 == pytest.approx(9.0)
    assert cloud_only.total.maximum == pytest.approx(21.0)
    assert cloud_only.status_counts == {JobStatus.SUCCEEDED: 4}
    assert owls.jobs == 2
    assert owls.queue.mean == pytest.approx(1.0)
    assert last_hour.jobs == 2
    assert last_hour.window_start == T0 + 3600


def test_throughput_over_window(store: Store) -> None:
    jobs = add_batch(store, 6)
    for index, job_id in enumerate(jobs):
        start = T0 + 30 * index
        run_job(
            store, job_id, submitted=start, started=start, completed=start + 29, finished=start + 30
        )

    metrics = compute_metrics(store, MetricsScope(connection="cloud"), now=T0 + 999)

    # Six jobs from the first submission (T0) to the last finish (T0 + 180): 2 per minute.
    assert metrics.window_start == T0
    assert metrics.window_end == T0 + 180
    assert metrics.throughput_per_minute == pytest.approx(2.0)


def quick_jobs(store: Store) -> None:
    """Three jobs on "sandbox" that ran within half a second."""
    for index, job_id in enumerate(add_batch(store, 3, connection="sandbox", name="quick")):
        start = T0 + 0.1 * index
        run_job(
            store,
            job_id,
            submitted=start,
            started=start,
            completed=start + 0.2,
            finished=start + 0.3,
            execution_ms=150,
        )


def test_throughput_needs_a_minute(store: Store) -> None:
    quick_jobs(store)
    steady = add_batch(store, 3, connection="cloud", name="steady")
    for index, job_id in enumerate(steady):
        start = T0 + 20 * index
        run_job(
            store, job_id, submitted=start, started=start, completed=start + 19, finished=start + 20
        )

    fast = compute_metrics(store, MetricsScope(connection="sandbox"), now=T0 + 999)
    minute = compute_metrics(store, MetricsScope(connection="cloud"), now=T0 + 999)

    # Three jobs in half a second would read as 360 jobs/min.
    assert fast.window_end is not None and fast.window_start is not None
    assert fast.window_end - fast.window_start == pytest.approx(0.5)
    assert fast.throughput_per_minute is None
    assert minute.window_end == T0 + MIN_THROUGHPUT_WINDOW_SECONDS
    assert minute.throughput_per_minute == pytest.approx(3.0)


def test_series_per_minute_with_gaps(store: Store) -> None:
    jobs = add_batch(store, 3)
    finishes = [T0 + 10, T0 + 20, T0 + 130]
    for job_id, finished in zip(jobs, finishes, strict=True):
        run_job(
            store,
            job_id,
            submitted=finished - 8,
            started=finished - 6,
            completed=finished - 1,
            finished=finished,
            execution_ms=4000,
        )

    metrics = compute_metrics(store, MetricsScope())
    series = metrics.series

    assert metrics.bucket_seconds == 60
    assert [bucket.finished for bucket in series] == [2, 0, 1]
    assert series[0].start == math.floor(T0 / 60) * 60
    assert series[0].queue_mean == pytest.approx(2.0)
    assert series[0].execution_mean == pytest.approx(4.0)
    assert series[1].queue_mean is None
    assert sum(metrics.total_histogram.counts) == 3
    with pytest.raises(ValueError, match="bucket width must be positive"):
        compute_metrics(store, MetricsScope(), bucket_seconds=0)


def test_series_widens_buckets_over_long_spans(store: Store) -> None:
    first, last = add_batch(store, 2)
    run_job(store, first, submitted=T0, started=T0, completed=T0 + 1, finished=T0 + 2)
    day = 23 * 3600
    run_job(
        store, last, submitted=T0 + day, started=T0 + day, completed=T0 + day, finished=T0 + day
    )

    metrics = compute_metrics(store, MetricsScope())

    assert metrics.bucket_seconds == 120
    assert len(metrics.series) <= 720
    assert sum(bucket.finished for bucket in metrics.series) == 2


def test_histogram_bins_cover_every_value() -> None:
    values = [0.4, 1.0, 1.1, 2.5, 7.9, 12.0]
    histogram = Histogram.of(values, bins=5)
    assert sum(histogram.counts) == len(values)
    assert len(histogram.edges) == len(histogram.counts) + 1
    assert histogram.edges[0] <= min(values)
    assert histogram.edges[-1] >= max(values)
    assert Histogram.of([]) == Histogram((), ())
    assert Histogram.of([3.0, 3.0]).counts == (2,)


def test_cache_misses_inferred_from_start_delays(store: Store) -> None:
    models = [SD15, SD15, SDXL, SDXL]
    jobs = add_batch(store, 4, models=models)
    # Jobs 1 and 3 spent 30 s on the node beyond execution: model downloads.
    for index, job_id in enumerate(jobs):
        start = T0 + 100 * index
        download = 30 if index in (0, 2) else 1
        run_job(
            store,
            job_id,
            submitted=start,
            started=start + 1,
            completed=start + 1 + download + 5,
            finished=start + 40,
            execution_ms=5000,
        )

    metrics = compute_metrics(store, MetricsScope(connection="cloud"))

    assert metrics.cache.source is CacheSource.INFERRED
    assert (metrics.cache.hits, metrics.cache.misses) == (2, 2)
    assert metrics.cache.hit_rate == pytest.approx(0.5)


def run_with_start_delay(
    store: Store, job_id: int, *, start: float, delay: float, gpu: float
) -> None:
    """Finish a job that spent ``delay`` seconds on the node beyond ``gpu`` seconds of GPU time."""
    run_job(
        store,
        job_id,
        submitted=start - 0.05,
        started=start,
        completed=start + delay + gpu,
        finished=start + delay + gpu + 0.05,
        execution_ms=round(gpu * 1000),
    )


# Start delays and GPU times of 12 jobs through the built-in sandbox at speed 5, where one
# model download takes 1.6 s: LoRA jobs that downloaded two models, then SD 1.5 and SDXL jobs.
SANDBOX_RUN = [
    (3.216, 0.296),
    (3.223, 0.296),
    (0.012, 0.296),
    (0.025, 0.296),
    (0.018, 0.52),
    (0.019, 0.52),
    (0.013, 0.52),
    (0.017, 0.52),
    (1.667, 1.8),
    (1.68, 1.8),
    (0.041, 1.8),
    (0.095, 1.8),
]


def test_fast_sandbox_misses_inferred(store: Store) -> None:
    jobs = add_batch(store, len(SANDBOX_RUN), connection="sandbox")
    for index, (job_id, (delay, gpu)) in enumerate(zip(jobs, SANDBOX_RUN, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 5 * index, delay=delay, gpu=gpu)
    downloaded = {jobs[0], jobs[1], jobs[8], jobs[9]}

    # No facts: the view of every connection in the command line.
    metrics = compute_metrics(store, MetricsScope())
    hits, misses = infer_cache_lookups(load_timings(store, MetricsScope()))

    assert misses == downloaded
    assert hits == set(jobs) - downloaded
    assert metrics.cache.source is CacheSource.INFERRED
    assert (metrics.cache.hits, metrics.cache.misses) == (8, 4)
    assert metrics.cache.margin_seconds == pytest.approx(0.8)


def test_sandbox_speed_sets_the_margin(store: Store) -> None:
    # The same kind of run at speed 20, where one download takes 0.4 s.
    delays = [(0.81, 0.074), (0.012, 0.074), (0.02, 0.13), (0.42, 0.45), (0.09, 0.45)]
    jobs = add_batch(store, len(delays), connection="sandbox")
    for index, (job_id, (delay, gpu)) in enumerate(zip(jobs, delays, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 2 * index, delay=delay, gpu=gpu)
    facts = connection_facts(ConnectionConfig(kind="sandbox", sandbox_speed=20.0))

    of_connection = compute_metrics(store, MetricsScope(connection="sandbox"), facts)
    of_everything = compute_metrics(
        store, MetricsScope(), download_seconds={"sandbox": facts.download_seconds}
    )

    assert facts.download_seconds == pytest.approx(0.4)
    for metrics in (of_connection, of_everything):
        assert (metrics.cache.hits, metrics.cache.misses) == (3, 2)
        assert metrics.cache.margin_seconds == pytest.approx(0.2)


def test_slow_warm_starts_are_hits(store: Store) -> None:
    # Saving large outputs takes 11-13 s on every job. Two jobs also downloaded a checkpoint,
    # which takes 30-60 s by the service's docs.
    delays = [11.6, 58.3, 12.4, 11.9, 46.0, 12.8]
    jobs = add_batch(store, len(delays), models=[SD15, SDXL, SDXL, SD15, SD15_MIRROR, SD15])
    for index, (job_id, delay) in enumerate(zip(jobs, delays, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 100 * index, delay=delay, gpu=6.0)

    hits, misses = infer_cache_lookups(load_timings(store, MetricsScope()))

    assert misses == {jobs[1], jobs[4]}
    assert hits == {jobs[0], jobs[2], jobs[3], jobs[5]}


def test_every_start_cold_counts_from_zero(store: Store) -> None:
    # No start was faster than one download, so none is taken as the warm start.
    delays = [41.0, 35.5, 52.0]
    jobs = add_batch(store, len(delays), models=[SD15, SDXL, SD15_MIRROR])
    for index, (job_id, delay) in enumerate(zip(jobs, delays, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 100 * index, delay=delay, gpu=5.0)

    hits, misses = infer_cache_lookups(load_timings(store, MetricsScope()))

    assert hits == set()
    assert misses == set(jobs)


def test_fastest_start_is_per_connection(store: Store) -> None:
    cloud = add_batch(store, 2, connection="cloud", name="cloud")
    sandbox = add_batch(store, 2, connection="sandbox", name="sandbox")
    # 2.0 s is a warm start on cmfy.cloud but a download in the sandbox at speed 5.
    delays = [2.0, 40.0, 0.02, 2.0]
    for index, (job_id, delay) in enumerate(zip(cloud + sandbox, delays, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 100 * index, delay=delay, gpu=1.0)

    hits, misses = infer_cache_lookups(load_timings(store, MetricsScope()))
    metrics = compute_metrics(store, MetricsScope())

    assert hits == {cloud[0], sandbox[0]}
    assert misses == {cloud[1], sandbox[1]}
    # The two connections have different margins, so the view names none.
    assert metrics.cache.margin_seconds is None


def test_jobs_without_gpu_time_not_judged(store: Store) -> None:
    jobs = add_batch(store, 3, models=[SD15, SD15, SDXL])
    # No execution time: the 40 s queue time mixes waiting for a slot with any download.
    for index, job_id in enumerate(jobs):
        start = T0 + 100 * index
        run_job(
            store,
            job_id,
            submitted=start,
            started=start + 40,
            completed=start + 50,
            finished=start + 51,
        )

    hits, misses = infer_cache_lookups(load_timings(store, MetricsScope()))
    metrics = compute_metrics(store, MetricsScope(connection="cloud"))

    assert hits == set()
    assert misses == set()
    assert metrics.cache.source is CacheSource.NONE
    assert metrics.cache.hit_rate is None


def test_sandbox_counters_only_for_whole_connection(store: Store) -> None:
    jobs = add_batch(store, 2, connection="sandbox")
    for job_id in jobs:
        run_job(
            store,
            job_id,
            submitted=T0,
            started=T0 + 1,
            completed=T0 + 3,
            finished=T0 + 4,
            execution_ms=1900,
        )
    facts = ConnectionFacts(
        label="sandbox",
        sandbox_stats={
            "cache": {"hits": 7, "misses": 3},
            "rate_limited": {"rate_limit_exceeded": 0, "queue_full": 2},
            "requests_total": 40,
        },
        requests=40,
        download_seconds=1.0,
    )

    whole = compute_metrics(store, MetricsScope(connection="sandbox"), facts)
    batch = compute_metrics(
        store, MetricsScope(connection="sandbox", batch_id=store.batches()[0].id), facts
    )

    assert whole.cache.source is CacheSource.SANDBOX
    assert (whole.cache.hits, whole.cache.misses) == (7, 3)
    assert whole.rate_limits.source is RateLimitSource.SANDBOX
    assert whole.rate_limits.by_code == {"queue_full": 2}
    assert whole.rate_limits.share_of_requests == pytest.approx(0.05)
    assert batch.cache.source is CacheSource.INFERRED
    assert batch.cache.margin_seconds == 0.5
    assert batch.rate_limits.source is RateLimitSource.JOB_EVENTS
    assert batch.rate_limits.total == 0


def test_rate_limits_from_job_events_and_scheduler(store: Store) -> None:
    patient, hasty = add_batch(store, 2)
    requeue(store, patient, at=T0, resubmitted_after=2.0)
    requeue(store, hasty, at=T0 + 10, resubmitted_after=0.1)
    counted = ConnectionFacts(
        label="cloud",
        rate_limited={"rate_limit_exceeded": 4, "concurrent_limit_reached": 1},
        avoidable_rate_limits=1,
        requests=50,
    )

    from_events = compute_metrics(store, MetricsScope(connection="cloud"))
    from_scheduler = compute_metrics(store, MetricsScope(connection="cloud"), counted)

    # Each job was put back twice and sent again once in between: the second after 0.1 s.
    assert from_events.rate_limits.source is RateLimitSource.JOB_EVENTS
    assert from_events.rate_limits.by_code == {REQUEUE_CODE: 4}
    assert from_events.rate_limits.without_backoff == 1
    assert from_scheduler.rate_limits.source is RateLimitSource.SCHEDULER
    assert from_scheduler.rate_limits.total == 5
    assert from_scheduler.rate_limits.avoidable == 1
    assert from_scheduler.rate_limits.share_of_requests == pytest.approx(0.1)


def test_failures_grouped_by_cause(store: Store) -> None:
    server, rejected, lost, cancelled, fine = add_batch(store, 5)
    run_job(store, server, submitted=T0, started=T0, completed=T0, finished=T0 + 1,
            status=JobStatus.FAILED, error_code="execution_error")  # fmt: skip
    store.transition(rejected, JobStatus.SUBMITTING, attempts=1)
    store.transition(
        rejected,
        JobStatus.FAILED,
        finished_at=T0 + 2,
        error_code="invalid_prompt",
        error_message="Node 3 has no input 'model'.",
    )
    store.transition(lost, JobStatus.SUBMITTING, attempts=1)
    store.transition(lost, JobStatus.SUBMITTED, submitted_at=T0, remote_id="r")
    store.transition(lost, JobStatus.LOST, finished_at=T0 + 3)
    store.transition(cancelled, JobStatus.CANCELLED, finished_at=T0 + 4)
    run_job(store, fine, submitted=T0, started=T0, completed=T0 + 1, finished=T0 + 2)

    metrics = compute_metrics(store, MetricsScope())

    assert metrics.failures == {
        FailureCause.SERVER: 1,
        FailureCause.VALIDATION: 1,
        FailureCause.LOST: 1,
        FailureCause.CANCELLED: 1,
    }


# Warnings ---------------------------------------------------------------------------------------


def test_no_warnings_when_within_range(store: Store) -> None:
    jobs = add_batch(store, 4)
    for index, job_id in enumerate(jobs):
        start = T0 + 20 * index
        run_job(store, job_id, submitted=start, started=start + 2, completed=start + 8,
                finished=start + 9, execution_ms=5500)  # fmt: skip

    assert compute_metrics(store, MetricsScope(connection="cloud")).advice == ()


def test_warnings_name_their_fix(store: Store) -> None:
    jobs = add_batch(store, 4, models=[SD15, SDXL, SD15, SDXL])
    # Every job waited 60 s in the queue and downloaded its model for 40 s.
    for index, job_id in enumerate(jobs):
        start = T0 + 200 * index
        run_job(store, job_id, submitted=start, started=start + 60, completed=start + 105,
                finished=start + 106, execution_ms=5000)  # fmt: skip
    facts = ConnectionFacts(label="cloud", rate_limited={"rate_limit_exceeded": 9}, requests=60)

    metrics = compute_metrics(store, MetricsScope(connection="cloud"), facts)
    by_code = {advice.code: advice for advice in metrics.advice}

    assert set(by_code) == {
        AdviceCode.QUEUE_P95,
        AdviceCode.CACHE_HIT_RATE,
        AdviceCode.FREQUENT_429,
    }
    assert by_code[AdviceCode.QUEUE_P95].values["p95"] == pytest.approx(60.0)
    assert by_code[AdviceCode.QUEUE_P95].action is FixAction.QUEUE_SETTINGS
    assert by_code[AdviceCode.CACHE_HIT_RATE].values["rate"] == 0.0
    assert by_code[AdviceCode.CACHE_HIT_RATE].action is FixAction.MODEL_LIBRARY
    assert by_code[AdviceCode.FREQUENT_429].values["share"] == pytest.approx(0.15)
    assert by_code[AdviceCode.FREQUENT_429].action is FixAction.QUEUE_SETTINGS


def test_few_429s_are_not_frequent(store: Store) -> None:
    add_batch(store, 1)
    facts = ConnectionFacts(label="cloud", rate_limited={"rate_limit_exceeded": 2}, requests=10)
    metrics = compute_metrics(store, MetricsScope(connection="cloud"), facts)
    assert metrics.rate_limits.total == 2
    assert metrics.advice == ()


# Production checklist ---------------------------------------------------------------------------


def checklist(
    store: Store, scope: MetricsScope, facts: ConnectionFacts | None = None
) -> dict[CheckCode, Any]:
    return {item.code: item for item in production_checklist(store, scope, facts)}


def test_checklist_all_ok_for_a_healthy_connection(store: Store) -> None:
    jobs = add_batch(store, 3)
    for index, job_id in enumerate(jobs):
        start = T0 + 20 * index
        run_job(store, job_id, submitted=start, started=start + 1, completed=start + 7,
                finished=start + 8, execution_ms=5500)  # fmt: skip
        store.record_webhook(job_id, "{}")
    facts = ConnectionFacts(
        label="cloud",
        kind="cmfy",
        webhooks_configured=True,
        running_limit=2,
        rate_limited={},
        pooled_http=True,
    )

    items = production_checklist(store, MetricsScope(connection="cloud"), facts)

    assert [item.code for item in items] == list(CheckCode)
    assert {item.code: item.state for item in items} == dict.fromkeys(CheckCode, CheckState.OK)
    assert items[0].values == {"with_webhook": 3, "finished": 3}


def test_checklist_webhooks(store: Store) -> None:
    job_id = add_batch(store, 1)[0]
    run_job(store, job_id, submitted=T0, started=T0, completed=T0 + 1, finished=T0 + 2)
    scope = MetricsScope(connection="cloud")

    polling = checklist(store, scope, ConnectionFacts("cloud", webhooks_configured=False))
    silent = checklist(store, scope, ConnectionFacts("cloud", webhooks_configured=True))
    server = checklist(store, scope, ConnectionFacts("cloud", kind="comfyui"))

    assert polling[CheckCode.WEBHOOKS].state is CheckState.AMBER
    assert polling[CheckCode.WEBHOOKS].reason == "polling_chosen"
    assert polling[CheckCode.WEBHOOKS].action is FixAction.CONNECTION_SETTINGS
    assert silent[CheckCode.WEBHOOKS].reason == "no_deliveries"
    assert silent[CheckCode.WEBHOOKS].state is CheckState.AMBER
    assert server[CheckCode.WEBHOOKS].state is CheckState.OK


def test_checklist_model_urls_over_queued_work(store: Store) -> None:
    add_batch(store, 3, models=[SD15, SD15_DOWNLOAD, SD15_MIRROR])

    item = checklist(store, MetricsScope())[CheckCode.CANONICAL_URLS]

    assert item.state is CheckState.AMBER
    assert item.action is FixAction.MODEL_LIBRARY
    assert item.values["queued"] is True
    assert item.values["not_canonical"] == 1
    assert item.values["conflicting"] == 3
    assert item.values["examples"][0] == SD15_DOWNLOAD


def test_checklist_model_urls_against_library(store: Store) -> None:
    add_batch(store, 1, models=[SD15_MIRROR])
    library = {"v1-5.safetensors": SD15}

    items = production_checklist(store, MetricsScope(), None, library=library)
    item = {i.code: i for i in items}[CheckCode.CANONICAL_URLS]
    plain = checklist(store, MetricsScope())[CheckCode.CANONICAL_URLS]

    assert item.state is CheckState.AMBER
    assert item.values["off_library"] == 1
    assert plain.state is CheckState.OK


def test_checklist_concurrency(store: Store) -> None:
    jobs = add_batch(store, 3)
    for job_id in jobs:
        run_job(store, job_id, submitted=T0, started=T0 + 1, completed=T0 + 5, finished=T0 + 6)
    scope = MetricsScope(connection="cloud")

    over = checklist(store, scope, ConnectionFacts("cloud", running_limit=10, max_running=2))
    within = checklist(store, scope, ConnectionFacts("cloud", running_limit=3))
    unknown = checklist(store, scope)

    assert peak_running(load_timings(store, scope)) == 3
    assert over[CheckCode.CONCURRENCY].state is CheckState.AMBER
    assert over[CheckCode.CONCURRENCY].values["limit"] == 2
    assert within[CheckCode.CONCURRENCY].state is CheckState.OK
    assert unknown[CheckCode.CONCURRENCY].state is CheckState.UNKNOWN


def test_peak_running_ignores_back_to_back_runs(store: Store) -> None:
    first, second = add_batch(store, 2)
    run_job(store, first, submitted=T0, started=T0, completed=T0 + 5, finished=T0 + 6)
    run_job(store, second, submitted=T0, started=T0 + 5, completed=T0 + 9, finished=T0 + 10)
    assert peak_running(load_timings(store, MetricsScope())) == 1


def test_checklist_idempotency_and_backoff(store: Store) -> None:
    patient, hasty = add_batch(store, 2, connection="sandbox")
    requeue(store, patient, at=T0, resubmitted_after=2.0)
    stats = {"runs_per_job": {"a": 1, "b": 2}, "rate_limited": {}, "cache": {}}
    scope = MetricsScope(connection="sandbox")

    calm = checklist(store, scope, ConnectionFacts("sandbox", sandbox_stats=stats))
    requeue(store, hasty, at=T0 + 10, resubmitted_after=0.1)
    hurried = checklist(store, scope)
    avoidable = checklist(
        store,
        MetricsScope(connection="sandbox", batch_id=None),
        ConnectionFacts(
            "sandbox", rate_limited={"rate_limit_exceeded": 3}, avoidable_rate_limits=2
        ),
    )

    assert calm[CheckCode.IDEMPOTENCY].reason == "duplicate_runs"
    assert calm[CheckCode.IDEMPOTENCY].values["duplicates"] == 1
    assert calm[CheckCode.BACKOFF].reason == "no_429"
    assert hurried[CheckCode.IDEMPOTENCY].state is CheckState.OK
    assert hurried[CheckCode.BACKOFF].reason == "no_backoff"
    assert hurried[CheckCode.BACKOFF].values["without_backoff"] == 1
    assert avoidable[CheckCode.BACKOFF].state is CheckState.AMBER
    assert avoidable[CheckCode.BACKOFF].values == {
        "total": 3,
        "avoidable": 2,
        "without_backoff": 1,
        "source": RateLimitSource.SCHEDULER,
    }


def test_checklist_missing_idempotency_key(store: Store) -> None:
    job_id = add_batch(store, 1)[0]
    store.connection.execute("UPDATE jobs SET idempotency_key = ' ' WHERE id = ?", (job_id,))
    item = checklist(store, MetricsScope())[CheckCode.IDEMPOTENCY]
    assert item.state is CheckState.AMBER
    assert item.values["missing"] == 1


def test_checklist_recording_and_pooling(store: Store) -> None:
    recorded, unrecorded = add_batch(store, 2)
    run_job(store, recorded, submitted=T0, started=T0, completed=T0 + 1, finished=T0 + 2)
    # A job whose start was never recorded, as after a crash before the status read.
    store.transition(unrecorded, JobStatus.SUBMITTING, attempts=1)
    store.transition(unrecorded, JobStatus.SUBMITTED, submitted_at=T0, remote_id="r")
    store.transition(unrecorded, JobStatus.RUNNING)
    store.transition(unrecorded, JobStatus.DOWNLOADING)
    store.transition(unrecorded, JobStatus.SUCCEEDED, finished_at=T0 + 9)

    items = checklist(store, MetricsScope())

    assert items[CheckCode.RECORDING].state is CheckState.AMBER
    assert items[CheckCode.RECORDING].values == {"complete": 1, "finished": 2}
    assert items[CheckCode.POOLING].state is CheckState.UNKNOWN


def test_checklist_unused_nodes(store: Store) -> None:
    add_batch(store, 2, unused=True, name="messy")
    add_batch(store, 1, name="tidy")

    item = checklist(store, MetricsScope())[CheckCode.UNUSED_NODES]

    assert item.state is CheckState.AMBER
    assert item.values["with_unused"] == 2
    assert item.values["checked"] == 3
    assert item.values["workflows"] == ["messy"]


def test_checklist_without_jobs_is_unknown(store: Store) -> None:
    items = checklist(store, MetricsScope())
    assert items[CheckCode.RECORDING].state is CheckState.UNKNOWN
    assert items[CheckCode.UNUSED_NODES].state is CheckState.UNKNOWN
    assert items[CheckCode.WEBHOOKS].state is CheckState.UNKNOWN
    assert items[CheckCode.CANONICAL_URLS].state is CheckState.UNKNOWN


def test_connection_facts_from_settings() -> None:
    polling = connection_facts(ConnectionConfig(kind="cmfy", status_mode="poll", api_key="k"))
    tunnel = connection_facts(
        ConnectionConfig(kind="cmfy", public_base_url="https://t.example", api_key="k"),
        max_running=0,
    )
    server = connection_facts(ConnectionConfig(kind="comfyui", base_url="http://127.0.0.1:8188"))
    assert polling.webhooks_configured is False
    assert tunnel.webhooks_configured is True
    assert tunnel.max_running is None
    assert server.webhooks_configured is False
    assert server.pooled_http is True


# CSV export -------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_job_history_csv_has_every_column(store: Store, tmp_path: Path) -> None:
    done, failed, waiting = add_batch(store, 3, name="foxes")
    run_job(store, done, submitted=T0, started=T0 + 2, completed=T0 + 8, finished=T0 + 9,
            execution_ms=5000)  # fmt: skip
    store.add_output(
        done,
        0,
        remote_url="https://cdn.example/out/0.png",
        local_path="/pictures/foxes/job1_00.png",
        size=10,
        sha256="0" * 64,
        width=512,
        height=512,
    )
    store.transition(failed, JobStatus.SUBMITTING, attempts=1)
    store.transition(
        failed,
        JobStatus.FAILED,
        finished_at=T0 + 3,
        error_code="invalid_prompt",
        error_message="=HYPERLINK() is not a node",
        error_request_id="req_7",
    )
    path = tmp_path / "jobs.csv"

    written = export_job_history_csv(store, path)
    rows = read_csv(path)
    header = path.read_text(encoding="utf-8").splitlines()[0]

    assert written == 3
    assert header.split(",") == list(JOB_HISTORY_COLUMNS)
    first = rows[0]
    assert first["job_id"] == str(done)
    assert first["batch_name"] == "foxes"
    assert first["status"] == "succeeded"
    assert first["submitted_at"] == "2023-11-14T22:13:20.000Z"
    assert first["completed_at"] == "2023-11-14T22:13:28.000Z"
    assert first["remote_started_at"] == "2023-11-14T22:13:22.000Z"
    assert first["queue_seconds"] == "2.0"
    assert first["execution_seconds"] == "5.0"
    assert first["total_seconds"] == "9.0"
    assert first["model_urls"] == SD15
    assert first["outputs"] == "1"
    assert first["output_paths"] == "/pictures/foxes/job1_00.png"
    assert first["parameters"] == ""
    assert rows[1]["failure_cause"] == "validation"
    assert rows[1]["error_message"] == "'=HYPERLINK() is not a node"
    assert rows[1]["error_request_id"] == "req_7"
    assert rows[2]["status"] == "queued"
    assert rows[2]["submitted_at"] == ""
    assert waiting == int(rows[2]["job_id"])


def test_job_history_csv_of_one_batch(store: Store, tmp_path: Path) -> None:
    add_batch(store, 2, name="foxes")
    add_batch(store, 3, name="owls")
    owls = store.batches()[1]
    path = tmp_path / "owls.csv"
    assert export_job_history_csv(store, path, MetricsScope(batch_id=owls.id)) == 3
    assert {row["batch_name"] for row in read_csv(path)} == {"owls"}


def test_metrics_csv_rows_per_connection_and_batch(store: Store, tmp_path: Path) -> None:
    for job_id in add_batch(store, 2, connection="cloud", name="foxes"):
        run_job(store, job_id, submitted=T0, started=T0 + 4, completed=T0 + 9, finished=T0 + 10,
                execution_ms=5000)  # fmt: skip
    add_batch(store, 1, connection="studio", name="owls")
    path = tmp_path / "metrics.csv"
    facts = {"cloud": ConnectionFacts("cloud", rate_limited={"queue_full": 1}, requests=12)}

    written = export_metrics_csv(store, path, facts.get, now=T0 + 20)
    rows = read_csv(path)

    assert written == 4
    assert [(row["scope"], row["connection"], row["batch_name"]) for row in rows] == [
        ("connection", "cloud", ""),
        ("connection", "studio", ""),
        ("batch", "cloud", "foxes"),
        ("batch", "studio", "owls"),
    ]
    assert list(rows[0]) == list(METRICS_CSV_COLUMNS)
    cloud = rows[0]
    assert cloud["jobs"] == "2"
    assert cloud["jobs_succeeded"] == "2"
    assert cloud["queue_seconds_p95"] == "4.0"
    assert cloud["total_seconds_max"] == "10.0"
    assert cloud["window_start"] == "2023-11-14T22:13:20.000Z"
    assert cloud["rate_limited"] == "1"
    assert cloud["rate_limited_by_code"] == "queue_full=1"
    assert cloud["rate_limit_source"] == "scheduler"
    assert cloud["requests"] == "12"
    assert rows[1]["jobs_queued"] == "1"
    assert rows[1]["queue_seconds_mean"] == ""
    assert rows[2]["rate_limit_source"] == "job_events"
    assert len(every_scope(store)) == 4


def test_export_to_missing_folder_fails_cleanly(store: Store, tmp_path: Path) -> None:
    add_batch(store, 1)
    target = tmp_path / "missing" / "jobs.csv"
    with pytest.raises(FileNotFoundError):
        export_job_history_csv(store, target)
    assert not target.parent.exists()


# End to end -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_sandbox_batch_figures_end_to_end(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    sd15, sdxl = (
        load_workflow_file(next(p for p in bundled_workflow_paths if p.stem == stem))
        for stem in ("sd15_txt2img", "sdxl_txt2img")
    )
    # At speed 5 a model download takes 1.6 s, the speed the settings start with.
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "out",
        ConnectionConfig(kind="sandbox", sandbox_speed=5.0),
    )
    await engine.start()
    try:
        batch, _jobs = engine.add_batch(sd15, 4, SeedMode.INCREMENT, base_seed=7)
        other, _jobs = engine.add_batch(sdxl, 3, SeedMode.INCREMENT, base_seed=7)
        await wait_for(lambda: not engine.unfinished_jobs({batch.id, other.id}), 60.0)
        assert engine.sandbox is not None
        facts = connection_facts(engine.connection, sandbox=engine.sandbox, running_limit=2)
        whole = compute_metrics(engine.store, MetricsScope(connection="sandbox"), facts)
        batches = [
            compute_metrics(
                engine.store, MetricsScope(connection="sandbox", batch_id=batch_id), facts
            )
            for batch_id in (batch.id, other.id)
        ]
        # Every connection, as the command line shows it: no sandbox counters, no facts.
        everything = compute_metrics(engine.store, MetricsScope())
        items = {
            item.code: item
            for item in production_checklist(
                engine.store, MetricsScope(connection="sandbox"), facts, whole
            )
        }
        stats = engine.sandbox.stats
    finally:
        await engine.stop()

    assert whole.jobs == 7
    assert whole.status_counts == {JobStatus.SUCCEEDED: 7}
    assert whole.total.count == 7
    assert whole.queue.count == 7
    assert whole.execution.count == 7
    # Seven jobs in a few seconds are too few to give a rate.
    assert whole.window_end is not None and whole.window_start is not None
    assert whole.window_end - whole.window_start < MIN_THROUGHPUT_WINDOW_SECONDS
    assert whole.throughput_per_minute is None
    assert whole.cache.source is CacheSource.SANDBOX
    assert (whole.cache.hits, whole.cache.misses) == (
        stats["cache"]["hits"],
        stats["cache"]["misses"],
    )
    # The first job on each simulated node downloaded its checkpoint.
    assert whole.cache.misses >= 2
    assert whole.rate_limits.requests == stats["requests_total"]
    assert sum(bucket.finished for bucket in whole.series) == 7
    # Each workflow names one checkpoint, so one lookup per job is one per model URL, and
    # the start delays find exactly the misses the sandbox counted.
    assert everything.cache.source is CacheSource.INFERRED
    assert (everything.cache.hits, everything.cache.misses) == (
        stats["cache"]["hits"],
        stats["cache"]["misses"],
    )
    assert [figures.cache.source for figures in batches] == [CacheSource.INFERRED] * 2
    assert sum(figures.cache.misses for figures in batches) == stats["cache"]["misses"]
    assert sum(figures.cache.lookups for figures in batches) == 7
    assert items[CheckCode.IDEMPOTENCY].state is CheckState.OK
    assert items[CheckCode.CONCURRENCY].state is CheckState.OK
    assert items[CheckCode.CONCURRENCY].values["peak"] <= 2
    assert items[CheckCode.RECORDING].state is CheckState.OK
    assert items[CheckCode.CANONICAL_URLS].state is CheckState.OK


def test_checklist_avoidable_429s(store: Store) -> None:
    add_batch(store, 1)
    facts = ConnectionFacts(
        "cloud", rate_limited={"rate_limit_exceeded": 3}, avoidable_rate_limits=2
    )
    answered = ConnectionFacts("cloud", rate_limited={"rate_limit_exceeded": 3})

    avoidable = checklist(store, MetricsScope(connection="cloud"), facts)[CheckCode.BACKOFF]
    backed_off = checklist(store, MetricsScope(connection="cloud"), answered)[CheckCode.BACKOFF]

    assert avoidable.state is CheckState.AMBER
    assert avoidable.reason == "avoidable"
    assert avoidable.action is FixAction.QUEUE_SETTINGS
    assert backed_off.state is CheckState.OK
    assert backed_off.reason == "backed_off"
