"""Expanding one workflow into a batch of jobs with fixed, incrementing, random or listed seeds."""

from __future__ import annotations

import random
from typing import Any

import pytest

from cmfy_desk.workflows.batch import JobSpec, SeedMode, expand_batch
from cmfy_desk.workflows.graph import Graph


def seeded_graph() -> Graph:
    """Return a graph with two seed inputs, as in a two-pass (base and refiner) workflow."""
    return {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64}},
        "2": {"class_type": "KSampler", "inputs": {"seed": 111, "latent_image": ["1", 0]}},
        "3": {"class_type": "KSamplerAdvanced", "inputs": {"noise_seed": 222, "samples": ["2", 0]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}},
    }


def seeds_in(job: JobSpec) -> list[Any]:
    return [job.graph["2"]["inputs"]["seed"], job.graph["3"]["inputs"]["noise_seed"]]


def test_fixed_uses_base_seed() -> None:
    jobs = expand_batch(seeded_graph(), 3, SeedMode.FIXED, base_seed=7)
    assert [job.seed for job in jobs] == [7, 7, 7]
    assert [seeds_in(job) for job in jobs] == [[7, 7]] * 3


def test_fixed_defaults_to_graph_seed() -> None:
    jobs = expand_batch(seeded_graph(), 2, SeedMode.FIXED)
    assert [job.seed for job in jobs] == [111, 111]
    assert seeds_in(jobs[1]) == [111, 111]


def test_increment_counts_up() -> None:
    jobs = expand_batch(seeded_graph(), 4, SeedMode.INCREMENT, base_seed=1000)
    assert [job.index for job in jobs] == [0, 1, 2, 3]
    assert [job.seed for job in jobs] == [1000, 1001, 1002, 1003]
    assert seeds_in(jobs[3]) == [1003, 1003]


def test_increment_defaults_to_graph_seed() -> None:
    jobs = expand_batch(seeded_graph(), 2, SeedMode.INCREMENT)
    assert [job.seed for job in jobs] == [111, 112]


def test_increment_wraps_at_64_bits() -> None:
    jobs = expand_batch(seeded_graph(), 2, SeedMode.INCREMENT, base_seed=2**64 - 1)
    assert [job.seed for job in jobs] == [2**64 - 1, 0]


def test_random_uses_rng() -> None:
    jobs = expand_batch(seeded_graph(), 5, SeedMode.RANDOM, rng=random.Random(42))
    expected_rng = random.Random(42)
    expected = [expected_rng.randrange(2**53) for _ in range(5)]
    assert [job.seed for job in jobs] == expected
    assert seeds_in(jobs[4]) == [expected[4], expected[4]]


def test_random_seeds_in_range() -> None:
    jobs = expand_batch(seeded_graph(), 200, SeedMode.RANDOM)
    seeds = [job.seed for job in jobs]
    assert all(seed is not None and 0 <= seed < 2**53 for seed in seeds)
    assert len(set(seeds)) > 190


def test_mode_accepts_string() -> None:
    jobs = expand_batch(seeded_graph(), 2, SeedMode("increment"), base_seed=5)
    assert [job.seed for job in jobs] == [5, 6]


def test_jobs_get_own_copies() -> None:
    graph = seeded_graph()
    jobs = expand_batch(graph, 2, SeedMode.FIXED, base_seed=9)
    jobs[0].graph["1"]["inputs"]["width"] = 999
    assert jobs[1].graph["1"]["inputs"]["width"] == 64
    assert graph["1"]["inputs"]["width"] == 64
    assert graph["2"]["inputs"]["seed"] == 111


def test_no_seed_input_gives_copies() -> None:
    graph: Graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "fox.png"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
    }
    for mode in SeedMode:
        jobs = expand_batch(graph, 3, mode, base_seed=4, seeds=[1, 2, 3])
        assert [job.seed for job in jobs] == [None, None, None]
        assert all(job.graph == graph for job in jobs)
        assert jobs[0].graph is not jobs[1].graph
        assert jobs[0].graph["1"] is not graph["1"]


def test_linked_seed_left_alone() -> None:
    graph = seeded_graph()
    graph["2"]["inputs"]["seed"] = ["1", 0]
    jobs = expand_batch(graph, 1, SeedMode.FIXED, base_seed=5)
    assert jobs[0].graph["2"]["inputs"]["seed"] == ["1", 0]
    assert jobs[0].graph["3"]["inputs"]["noise_seed"] == 5


def test_count_bounds_accepted() -> None:
    assert len(expand_batch(seeded_graph(), 1, SeedMode.FIXED)) == 1
    assert len(expand_batch(seeded_graph(), 10_000, SeedMode.INCREMENT)) == 10_000


@pytest.mark.parametrize("count", [0, -1, 10_001])
def test_count_out_of_range_rejected(count: int) -> None:
    with pytest.raises(ValueError, match=r"between 1 and 10000"):
        expand_batch(seeded_graph(), count, SeedMode.FIXED)


@pytest.mark.parametrize("count", [True, 2.0, "3"])
def test_count_wrong_type_rejected(count: Any) -> None:
    with pytest.raises(ValueError, match=r"whole number"):
        expand_batch(seeded_graph(), count, SeedMode.FIXED)


def test_negative_base_seed_rejected() -> None:
    with pytest.raises(ValueError, match=r"seed must be between 0"):
        expand_batch(seeded_graph(), 1, SeedMode.FIXED, base_seed=-1)


def test_list_mode_uses_seeds() -> None:
    jobs = expand_batch(seeded_graph(), 1, SeedMode.LIST, seeds=[9, 8])
    assert [job.seed for job in jobs] == [9, 8]
    assert seeds_in(jobs[1]) == [8, 8]
    assert jobs[0].parameters == {"seed": 9}


def test_list_mode_count_must_match() -> None:
    with pytest.raises(ValueError, match=r"seed list has 2 seeds"):
        expand_batch(seeded_graph(), 3, SeedMode.LIST, seeds=[9, 8])
