"""Settings of the sandbox server: plans, simulated timings and the server's own options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlanLimits:
    """Limits of one cmfy.cloud plan, applied to each API key separately."""

    requests_per_minute: int
    running: int
    queued: int


# The plan table of cmfy.cloud's public docs (requests per minute, running jobs, queued jobs).
PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(requests_per_minute=60, running=2, queued=100),
    "pro": PlanLimits(requests_per_minute=300, running=10, queued=100),
    "enterprise": PlanLimits(requests_per_minute=1000, running=50, queued=100),
}

LIMIT_MODES = ("queue", "reject")


@dataclass(frozen=True)
class Timings:
    """Simulated durations in seconds, before the server divides them by its speed."""

    # Fixed cost of every job: scheduling, model load from the node's disk, VAE decode.
    base_seconds: float = 1.0
    # Cost of one sampling step of one 512x512 image; it grows with pixels and batch size.
    seconds_per_step: float = 0.08
    # Download of one model URL that the chosen node does not hold in its cache.
    model_download_seconds: float = 8.0
    # How many model URLs each simulated GPU node keeps (least recently used are evicted).
    node_cache_size: int = 4
    # Length of the fixed requests-per-minute window. Real time: speed does not scale it.
    rate_window_seconds: float = 60.0
    # How long an idempotency key maps to its job.
    idempotency_ttl_seconds: float = 24 * 60 * 60


TIMINGS = Timings()

# Largest image the sandbox renders, so a typo in a workflow cannot exhaust the machine's memory.
MAX_IMAGE_SIDE = 8192
MAX_BATCH_PIXELS = 64 * 1024 * 1024


@dataclass
class SandboxConfig:
    """Options of one sandbox server.

    ``limits`` overrides the plan's limits (tests use tiny ones); ``speed`` divides every
    simulated duration, so 10 runs jobs ten times faster. ``limit_mode`` picks how the
    running-job limit works: ``"queue"`` keeps extra jobs waiting (429 ``queue_full`` past the
    queue limit), ``"reject"`` responds 429 ``concurrent_limit_reached`` while the limit is reached.
    ``fault_seed`` seeds the random fault draws, so a run with the same seed and the same
    requests injects the same faults; None seeds them from the OS.
    """

    host: str = "127.0.0.1"
    port: int = 0
    plan: str = "free"
    speed: float = 1.0
    limit_mode: str = "queue"
    output_dir: Path | None = None
    limits: PlanLimits | None = None
    timings: Timings = TIMINGS
    fault_seed: int | None = None

    def __post_init__(self) -> None:
        if self.limits is None and self.plan not in PLANS:
            raise ValueError(
                f"Unknown sandbox plan {self.plan!r}: expected one of {', '.join(PLANS)}."
            )
        if not self.speed > 0:
            raise ValueError(f"Invalid sandbox speed {self.speed!r}: expected a number above 0.")
        if self.limit_mode not in LIMIT_MODES:
            raise ValueError(
                f"Unknown limit mode {self.limit_mode!r}: expected one of {', '.join(LIMIT_MODES)}."
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(
                f"Invalid port {self.port}: expected 0 to 65535 (0 picks a free port)."
            )

    @property
    def plan_limits(self) -> PlanLimits:
        return self.limits if self.limits is not None else PLANS[self.plan]
