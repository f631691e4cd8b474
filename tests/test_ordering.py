"""Queue order: priority, reordering, paused batches and cache-aware grouping."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmfy_desk.scheduler.ordering import CacheAwareOrder, model_key
from cmfy_desk.store import Job, Store


def _store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "db.sqlite3")


def _batch(store: Store, keys: list[str], priority: int = 0, connection: str = "c") -> list[Job]:
    _batch_row, jobs = store.add_batch(
        name="b",
        workflow_name="wf",
        workflow_path="/wf.json",
        connection=connection,
        seed_mode="fixed",
        output_dir="/out/b",
        jobs=[({"1": {}}, "h", index) for index in range(len(keys))],
        model_keys=keys,
        priority=priority,
    )
    return jobs


def _drain(store: Store, order: CacheAwareOrder, connection: str = "c") -> list[int]:
    """Take every queued job in the order the scheduler would, marking each as taken."""
    from cmfy_desk.store import JobStatus

    taken: list[int] = []
    while True:
        job = order.choose(store.queued_candidates(connection))
        if job is None:
            return taken
        store.transition(job.id, JobStatus.SUBMITTING)
        # As if each job finished at once, freeing a node that has its models.
        order.remember(job.model_key)
        taken.append(job.id)


def test_model_key_ignores_order_and_duplicates() -> None:
    assert model_key(["b", "a", "a"]) == model_key(["a", "b"])
    assert model_key([]) == ""
    assert model_key(["a"]) != model_key(["b"])


def test_higher_priority_goes_first(tmp_path: Path) -> None:
    store = _store(tmp_path)
    low = _batch(store, ["", ""])
    high = _batch(store, ["", ""], priority=5)
    order = _drain(store, CacheAwareOrder())
    assert order == [high[0].id, high[1].id, low[0].id, low[1].id]


def test_move_to_top_and_before(tmp_path: Path) -> None:
    store = _store(tmp_path)
    jobs = _batch(store, [""] * 4)
    store.move_jobs([jobs[3].id], to="top")
    store.move_jobs_before([jobs[2].id], jobs[0].id)
    order = _drain(store, CacheAwareOrder(enabled=False))
    assert order == [jobs[3].id, jobs[2].id, jobs[0].id, jobs[1].id]


def test_paused_batch_is_skipped(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = _batch(store, [""])
    second = _batch(store, [""])
    store.set_batch_paused(first[0].batch_id, True)
    assert _drain(store, CacheAwareOrder()) == [second[0].id]
    store.set_batch_paused(first[0].batch_id, False)
    assert _drain(store, CacheAwareOrder()) == [first[0].id]


def test_other_connection_is_not_taken(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _batch(store, [""], connection="sandbox")
    mine = _batch(store, [""], connection="https://api.cmfy.cloud")
    assert _drain(store, CacheAwareOrder(), "https://api.cmfy.cloud") == [mine[0].id]


def test_same_models_are_sent_together(tmp_path: Path) -> None:
    store = _store(tmp_path)
    jobs = _batch(store, ["a", "b", "c"] * 3)
    order = _drain(store, CacheAwareOrder(max_skips=100))
    keys = [next(job.model_key for job in jobs if job.id == job_id) for job_id in order]
    assert keys == ["a", "a", "a", "b", "b", "b", "c", "c", "c"]


@pytest.mark.parametrize("max_skips", [1, 2, 4])
def test_reordering_is_bounded(tmp_path: Path, max_skips: int) -> None:
    store = _store(tmp_path)
    jobs = _batch(store, ["a", "b"] + ["a"] * 20)
    order = _drain(store, CacheAwareOrder(max_skips=max_skips))
    position_of_b = order.index(jobs[1].id)
    assert position_of_b <= 1 + max_skips


def test_disabled_order_is_first_in_first_out(tmp_path: Path) -> None:
    store = _store(tmp_path)
    jobs = _batch(store, ["a", "b", "c"] * 2)
    assert _drain(store, CacheAwareOrder(enabled=False)) == [job.id for job in jobs]
