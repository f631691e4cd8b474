"""Simulated GPU nodes with a model cache, and the cache-aware router that picks one per job."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class GpuNode:
    """One simulated GPU node: busy with at most one job, caching the last model URLs it loaded."""

    index: int
    cache_size: int
    busy: bool = False
    # Ordered from least to most recently used; the key is the exact URL string.
    models: OrderedDict[str, None] = field(default_factory=OrderedDict)
    # Tick of the router's clock when this node last took a job (0: never).
    last_used: int = 0

    def overlap(self, urls: list[str]) -> int:
        return sum(1 for url in urls if url in self.models)

    def load(self, urls: list[str]) -> tuple[int, int]:
        """Load ``urls`` into the cache and return ``(hits, misses)``, one per URL."""
        hits = 0
        misses = 0
        for url in urls:
            if url in self.models:
                hits += 1
                self.models.move_to_end(url)
            else:
                misses += 1
                self.models[url] = None
                while len(self.models) > self.cache_size:
                    self.models.popitem(last=False)
        return hits, misses


@dataclass(frozen=True)
class Placement:
    node: GpuNode
    hits: int
    misses: int


class NodePool:
    """A fixed set of nodes; ``acquire`` places a job, ``release`` frees its node."""

    def __init__(self, size: int, cache_size: int) -> None:
        self.nodes = [GpuNode(index=i, cache_size=cache_size) for i in range(size)]
        self._clock = itertools.count(1)

    def acquire(self, urls: list[str]) -> Placement:
        """Pick the idle node that caches the most of ``urls`` and mark it busy.

        A node caching every URL is a full hit. Among equal overlaps the least recently used
        node wins, so cold jobs spread over the pool instead of evicting a warm node's models.
        Raises RuntimeError when every node is busy (the caller keeps running jobs within the
        pool's size).
        """
        idle = [node for node in self.nodes if not node.busy]
        if not idle:
            raise RuntimeError("No idle GPU node: the running-job limit exceeds the pool size.")
        node = max(idle, key=lambda candidate: (candidate.overlap(urls), -candidate.last_used))
        node.busy = True
        node.last_used = next(self._clock)
        hits, misses = node.load(urls)
        return Placement(node=node, hits=hits, misses=misses)

    def release(self, node: GpuNode) -> None:
        node.busy = False
