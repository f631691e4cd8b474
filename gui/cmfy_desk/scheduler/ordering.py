"""Which queued job goes next: queue order, with jobs that share models sent together.

The service routes a job to a GPU node that already holds its model URLs, and a node that
has to download a model first costs 30–60 s for a large checkpoint. A slot frees when a job
finishes, and the node that ran it holds that job's models. So among queued jobs of the same
priority, a job whose set of model URLs matches a job that just finished goes first. The
reordering is bounded: a job passed over ``max_skips`` times is taken next, so no batch waits
for ever behind a long run of another model set.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Sequence

from cmfy_desk.store import QueueEntry


def model_key(urls: Iterable[str]) -> str:
    """Return a short key for a set of model URLs; equal sets give equal keys, order aside."""
    distinct = sorted(set(urls))
    if not distinct:
        return ""
    return hashlib.sha256("\n".join(distinct).encode("utf-8")).hexdigest()[:16]


class CacheAwareOrder:
    """Picks the next job among the head of the queue (the candidates, in queue order)."""

    def __init__(self, *, memory: int = 4, max_skips: int = 8, enabled: bool = True) -> None:
        # Model keys of the last ``memory`` finished jobs, newest last: the sets most likely to
        # be warm on a node that is free now.
        self._recent: deque[str] = deque(maxlen=memory)
        self._skips: dict[int, int] = {}
        self.max_skips = max_skips
        self.enabled = enabled

    def remember(self, key: str) -> None:
        """Note that a job with these models finished, so a node holding them is free."""
        if key:
            if key in self._recent:
                self._recent.remove(key)
            self._recent.append(key)

    def choose(self, candidates: Sequence[QueueEntry]) -> QueueEntry | None:
        """Return the job to submit next, or None when there are no candidates."""
        if not candidates:
            return None
        head = candidates[0]
        chosen = head
        if self.enabled and self._skips.get(head.id, 0) < self.max_skips:
            chosen = self._warm_choice(candidates) or head
        for job in candidates:
            if job.id == chosen.id:
                break
            if job.priority == chosen.priority:
                self._skips[job.id] = self._skips.get(job.id, 0) + 1
        self._skips.pop(chosen.id, None)
        return chosen

    def _warm_choice(self, candidates: Sequence[QueueEntry]) -> QueueEntry | None:
        head = candidates[0]
        same_priority = [job for job in candidates if job.priority == head.priority]
        if head.model_key and head.model_key in self._recent:
            return head
        # Prefer the most recently used model set: its node is the one most surely warm.
        for key in reversed(self._recent):
            for job in same_priority:
                if job.model_key == key:
                    # Never pass over a job that has waited its share.
                    if any(
                        self._skips.get(other.id, 0) >= self.max_skips
                        for other in same_priority
                        if other.id != job.id and other.queue_order < job.queue_order
                    ):
                        return None
                    return job
        return None
