"""Seeds for a batch, and the expansion of one workflow into jobs that differ only in their seed.

expansion.plan_jobs() builds on this for prompt lists, CSV rows and XY grids.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

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
    # An explicit list of seeds, one job per seed.
    LIST = "list"


@dataclass(frozen=True)
class JobSpec:
    """One job of a batch: its 0-based position, its seed (None when the graph has no seed
    input) and its own copy of the graph with that seed set.

    ``parameters`` holds the values that made this job, keyed by the reference or shortcut the
    user wrote ("seed", "prompt", a CSV column, an axis, a fixed value). ``grid_position`` is
    ``(x_index, y_index)`` in an XY grid. ``uploads`` maps a ``NODE.INPUT`` reference to the
    local file that must be uploaded and named in that input before the job is submitted.
    """

    index: int
    seed: int | None
    graph: Graph
    parameters: dict[str, Any] = field(default_factory=dict)
    grid_position: tuple[int, int] | None = None
    uploads: Mapping[str, Path] = field(default_factory=dict)


def expand_batch(
    graph: Graph,
    count: int,
    seed_mode: SeedMode,
    base_seed: int | None = None,
    rng: random.Random | None = None,
    seeds: Sequence[int] = (),
) -> list[JobSpec]:
    """Make ``count`` jobs from ``graph``, setting every seed input of each to the job's seed.

    ``fixed`` gives every job ``base_seed`` (the graph's own first seed when None), and
    ``increment`` gives job ``i`` the seed ``base + i``. ``random`` draws independent seeds in
    [0, 2**53) from ``rng`` (a SystemRandom when None). ``list`` makes one job per item of
    ``seeds``, and ``count`` must then be 1 or the number of seeds. Raises ValueError for a
    count outside 1..10000 or a seed outside [0, 2**64).
    """
    mode = SeedMode(seed_mode)
    job_seeds = make_seeds(graph, count, mode, base_seed, rng, seeds)

    if not seed_inputs(graph):
        # Nothing to vary: the jobs are identical copies, which is what the user asked for.
        return [JobSpec(index, None, copy.deepcopy(graph)) for index in range(len(job_seeds))]

    return [
        JobSpec(index, seed, with_seed(graph, seed), parameters={"seed": seed})
        for index, seed in enumerate(job_seeds)
    ]


def make_seeds(
    graph: Graph,
    count: int,
    mode: SeedMode,
    base_seed: int | None = None,
    rng: random.Random | None = None,
    seeds: Sequence[int] = (),
    offset: int = 0,
) -> list[int]:
    """Return the seeds of ``count`` jobs (of ``len(seeds)`` jobs in ``list`` mode).

    ``offset`` shifts ``increment`` mode, so that consecutive groups of a batch continue the
    count. A graph without a literal seed gets seed 0 as its base, which nothing uses. Raises
    ValueError as expand_batch() does.
    """
    _check_count(count)
    if base_seed is not None:
        _check_seed(base_seed)
    mode = SeedMode(mode)

    if mode is SeedMode.LIST:
        if not seeds:
            raise ValueError("The seed list is empty. Enter at least one seed.")
        for seed in seeds:
            _check_seed(seed)
        if count not in (1, len(seeds)):
            raise ValueError(
                f"The batch count is {count} but the seed list has {len(seeds)} seeds. "
                "Leave the count at 1 to make one job per seed."
            )
        return list(seeds)

    if mode is SeedMode.RANDOM:
        source = rng if rng is not None else random.SystemRandom()
        return [source.randrange(RANDOM_SEED_LIMIT) for _ in range(count)]

    base = base_seed if base_seed is not None else first_seed(graph)
    if base is None:
        base = 0
    if mode is SeedMode.FIXED:
        return [base] * count
    return [(base + offset + index) % SEED_LIMIT for index in range(count)]


def check_seed(seed: object) -> int:
    """Return ``seed`` when it is a whole number in [0, 2**64); raise ValueError otherwise."""
    _check_seed(seed)
    assert isinstance(seed, int)
    return seed


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError(f"The batch count must be a whole number, got {count!r}.")
    if not 1 <= count <= MAX_BATCH_COUNT:
        raise ValueError(
            f"The batch count must be between 1 and {MAX_BATCH_COUNT}, got {count}. "
            "Split a larger batch into several."
        )


def _check_seed(seed: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"The seed must be a whole number, got {seed!r}.")
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"The seed must be between 0 and {SEED_LIMIT - 1}, got {seed}.")
