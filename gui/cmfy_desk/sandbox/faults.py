"""Faults the sandbox injects: one-shot counters that tests set, and seeded random rates.

Rates come from a string such as ``"5xx=0.1,drop_after_accept=0.05,slow=0.1,slow_seconds=3"``.
Every fault name draws from its own ``random.Random`` stream, seeded from the fault seed and
the name, so one fault's draws never shift another's. A run with the same seed and the same
sequence of requests therefore injects the same faults.

This module imports nothing heavy, so the command line can build its parser from it.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass, field

# Probabilities from 0 to 1, by the name used on the command line.
RATE_NAMES = (
    "5xx",
    "drop_before_accept",
    "drop_after_accept",
    "slow",
    "429_storm",
    "webhook_duplicate",
    "webhook_out_of_order",
    "webhook_late",
    "lost",
    "fail",
)
# Durations in real seconds (the server's speed does not divide them), with their defaults.
SECONDS_DEFAULTS: dict[str, float] = {
    # How long a slow request waits before it is handled.
    "slow_seconds": 2.0,
    # How long a 429 storm rejects every request of its API key.
    "storm_seconds": 5.0,
    # The maximum delay of an out-of-order webhook, which waits a random time from 0 to this.
    "webhook_out_of_order_seconds": 3.0,
    # How long after its first delivery a late webhook is sent again.
    "webhook_late_seconds": 5.0,
}
FAULT_NAMES = RATE_NAMES + tuple(SECONDS_DEFAULTS)


@dataclass(frozen=True)
class JobFaultPlan:
    """The faults drawn for one job when it is created, applied later in its life.

    Drawing them at creation ties them to the order of submissions rather than to the order in
    which concurrent jobs happen to end, which keeps a seeded run reproducible.
    """

    fail: bool = False
    lost: bool = False
    webhook_duplicate: bool = False
    # Delay before the first webhook delivery, or 0 when the job's webhook is on time.
    webhook_delay_seconds: float = 0.0
    # Delay between the first delivery and the repeated one, or None when none is repeated.
    webhook_late_seconds: float | None = None

    @property
    def webhook_out_of_order(self) -> bool:
        return self.webhook_delay_seconds > 0


@dataclass
class SandboxFaults:
    """Faults to inject into the sandbox's responses, jobs and webhooks.

    The counters drop by one every time they take effect:

    ``error_5xx``: the next N authenticated /v1 requests get 503 ``server_error``.
    ``drop_after_accept``: the next N job submissions create the job, then respond 500 as if
    the response had been lost on the way.
    ``fail_jobs``: the next N jobs to finish end ``failed`` with ``execution_error``.
    ``revoked_keys``: API keys rejected with 401 ``revoked_api_key``.

    ``rates`` maps each name of ``RATE_NAMES`` to a probability; ``parse`` builds them from the
    command-line form. The server seeds the random streams from ``SandboxConfig.fault_seed``.
    """

    error_5xx: int = 0
    drop_after_accept: int = 0
    fail_jobs: int = 0
    revoked_keys: set[str] = field(default_factory=set)
    rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RATE_NAMES, 0.0))
    slow_seconds: float = SECONDS_DEFAULTS["slow_seconds"]
    storm_seconds: float = SECONDS_DEFAULTS["storm_seconds"]
    webhook_out_of_order_seconds: float = SECONDS_DEFAULTS["webhook_out_of_order_seconds"]
    webhook_late_seconds: float = SECONDS_DEFAULTS["webhook_late_seconds"]
    _seed: int | None = field(default=None, init=False, repr=False, compare=False)
    _streams: dict[str, random.Random] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def parse(cls, text: str) -> SandboxFaults:
        """Build faults from ``"NAME=VALUE,..."`` and raise ValueError naming a bad entry.

        Rates take 0 to 1 and the ``*_seconds`` names take 0 or more. An empty string gives
        no faults.
        """
        faults = cls()
        seen: set[str] = set()
        for entry in text.split(","):
            entry = entry.strip()
            if not entry:
                continue
            name, equals, value_text = entry.partition("=")
            name = name.strip()
            if not equals:
                raise ValueError(f"Invalid fault {entry!r}: expected NAME=VALUE, such as 5xx=0.1.")
            if name not in FAULT_NAMES:
                raise ValueError(
                    f"Unknown fault {name!r}: expected one of {', '.join(FAULT_NAMES)}."
                )
            if name in seen:
                raise ValueError(f"Fault {name!r} is given twice: give each fault once.")
            seen.add(name)
            faults.set_value(name, _parse_number(name, value_text.strip()))
        return faults

    def set_value(self, name: str, value: float) -> None:
        """Set one rate or duration by its command-line name, or raise ValueError."""
        if name in RATE_NAMES:
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"Invalid value {value!r} for fault {name}: expected a probability from 0 to 1."
                )
            self.rates[name] = value
        elif name in SECONDS_DEFAULTS:
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(
                    f"Invalid value {value!r} for {name}: expected a number of seconds, 0 or more."
                )
            setattr(self, name, value)
        else:
            raise ValueError(f"Unknown fault {name!r}: expected one of {', '.join(FAULT_NAMES)}.")

    def describe(self) -> str:
        """Return the active rates and their durations in the command-line form, or ``none``."""
        active = [f"{name}={self.rates[name]:g}" for name in RATE_NAMES if self.rates[name] > 0]
        if not active:
            return "none"
        used_seconds = {
            "slow_seconds": "slow",
            "storm_seconds": "429_storm",
            "webhook_out_of_order_seconds": "webhook_out_of_order",
            "webhook_late_seconds": "webhook_late",
        }
        for seconds_name, rate_name in used_seconds.items():
            if self.rates[rate_name] > 0:
                active.append(f"{seconds_name}={getattr(self, seconds_name):g}")
        return ",".join(active)

    # -- random draws -------------------------------------------------------------------------

    def seed(self, seed: int | None) -> None:
        """Restart every random stream from ``seed``, or from the OS when it is None."""
        self._seed = seed
        self._streams.clear()

    def chance(self, name: str) -> bool:
        """Draw whether the fault ``name`` happens now, with probability ``rates[name]``."""
        rate = self.rates[name]
        if rate <= 0.0:
            return False
        return self._stream(name).random() < rate

    def plan_job(self) -> JobFaultPlan:
        """Draw the faults of a job being created."""
        delay = 0.0
        if self.chance("webhook_out_of_order"):
            delay = self._stream("webhook_out_of_order").uniform(
                0.0, self.webhook_out_of_order_seconds
            )
        return JobFaultPlan(
            fail=self.chance("fail"),
            lost=self.chance("lost"),
            webhook_duplicate=self.chance("webhook_duplicate"),
            webhook_delay_seconds=delay,
            webhook_late_seconds=self.webhook_late_seconds if self.chance("webhook_late") else None,
        )

    def _stream(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            # random.Random turns a string seed into an integer through SHA-512, not hash(), so
            # the stream is the same in every process.
            stream = random.Random(None if self._seed is None else f"{self._seed}/{name}")
            self._streams[name] = stream
        return stream

    # -- counters -----------------------------------------------------------------------------

    def take_error_5xx(self) -> bool:
        if self.error_5xx <= 0:
            return False
        self.error_5xx -= 1
        return True

    def take_drop_after_accept(self) -> bool:
        if self.drop_after_accept <= 0:
            return False
        self.drop_after_accept -= 1
        return True

    def take_fail_job(self) -> bool:
        if self.fail_jobs <= 0:
            return False
        self.fail_jobs -= 1
        return True


def _parse_number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        expected = "a probability from 0 to 1" if name in RATE_NAMES else "a number of seconds"
        raise ValueError(f"Invalid value {text!r} for fault {name}: expected {expected}.")
    return value


# -- command line -----------------------------------------------------------------------------


def fault_spec(text: str) -> str:
    """Check a ``--faults`` value for argparse and return it unchanged."""
    try:
        SandboxFaults.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--faults`` and ``--fault-seed`` to the ``cmfy-desk sandbox`` parser."""
    parser.add_argument(
        "--faults",
        type=fault_spec,
        default="",
        metavar="NAME=VALUE,...",
        help="inject faults at random: probabilities from 0 to 1 for "
        f"{', '.join(RATE_NAMES)}; durations in seconds for "
        f"{', '.join(SECONDS_DEFAULTS)} (defaults "
        f"{', '.join(f'{value:g}' for value in SECONDS_DEFAULTS.values())}). "
        "Example: 5xx=0.1,drop_after_accept=0.05,slow=0.1,slow_seconds=3",
    )
    parser.add_argument(
        "--fault-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for the fault draws, so a run can be repeated (default: a random seed)",
    )
