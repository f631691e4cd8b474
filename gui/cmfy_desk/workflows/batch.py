"""Expansion of one workflow into a batch of jobs that differ only in their seed."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from enum import StrEnum

from cmfy_desk.workflows.graph import Graph, first_seed, seed_inputs, with_seed

MAX_BATCH_COUNT = 10_000

# Random seeds stay below 2**53 so that they survive a round trip through JavaScript numbers
# (as in the ComfyUI frontend) without losing precision.
RANDOM_SEED_LIMIT = 2**53

# ComfyUI 0.8.0's KSampler accepts seeds in [0, 0xFFFFFFFFFFFFFFFF], so an incremented seed
# wraps around at 2**64 instead of becoming a value the server rejects.
SEED_LIMIT = 2**64


class SeedMode(StrEnum):
    FIXED = "fixed"
    INCREMENT = "increment"
    RANDOM = "random"


@dataclass(frozen=True)
class JobSpec:
    """One job of a batch: its 0-based position, its seed (None when the graph has no seed
    input) and its own copy of the graph with that seed set."""

    index: int
    seed: int | None
    graph: Graph


def expand_batch(
    graph: Graph,
    count: int,
    seed_mode: SeedMode,
    base_seed: int | None = None,
    rng: random.Random | None = None,
) -> list[JobSpec]:
    """Make ``count`` jobs from ``graph``, setting every seed input of each to the job's seed.

    ``fixed`` gives every job ``base_seed`` (the graph's own first seed when None),
    ``increment`` gives job ``i`` the seed ``base + i``, and ``random`` draws independent seeds
    in [0, 2**53) from ``rng`` (a SystemRandom when None). Raises ValueError for a count outside
    1..10000 or a negative base seed.
    """
    _check_count(count)
    if base_seed is not None:
        _check_seed(base_seed)
    mode = SeedMode(seed_mode)

    if not seed_inputs(graph):
        # Nothing to vary: the jobs are identical copies, which is what the user asked for.
        return [JobSpec(index, None, copy.deepcopy(graph)) for index in range(count)]

    seeds = _seeds(graph, count, mode, base_seed, rng)
    return [JobSpec(index, seed, with_seed(graph, seed)) for index, seed in enumerate(seeds)]


def _seeds(
    graph: Graph,
    count: int,
    mode: SeedMode,
    base_seed: int | None,
    rng: random.Random | None,
) -> list[int]:
    if mode is SeedMode.RANDOM:
        source = rng if rng is not None else random.SystemRandom()
        return [source.randrange(RANDOM_SEED_LIMIT) for _ in range(count)]

    base = base_seed if base_seed is not None else first_seed(graph)
    # seed_inputs() found at least one literal seed, so first_seed() is not None here.
    assert base is not None
    if mode is SeedMode.FIXED:
        return [base] * count
    return [(base + index) % SEED_LIMIT for index in range(count)]


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError(f"The batch count must be a whole number, got {count!r}.")
    if not 1 <= count <= MAX_BATCH_COUNT:
        raise ValueError(
            f"The batch count must be between 1 and {MAX_BATCH_COUNT}, got {count}. "
            "Split a larger batch into several."
        )


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"The seed must be a whole number, got {seed!r}.")
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"The seed must be between 0 and {SEED_LIMIT - 1}, got {seed}.")
