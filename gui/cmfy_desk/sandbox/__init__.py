"""A local server that implements the cmfy.cloud API, for demo mode and tests.

It runs on the current asyncio loop (plain asyncio or the Qt app's qasync loop), applies a
plan's limits per API key, simulates GPU nodes with a model cache, renders real PNG outputs
and delivers webhooks to loopback receivers. On request it injects faults: errors, dropped
connections, slow responses, 429 storms, lost jobs, repeated or reordered webhooks.
"""

from __future__ import annotations

from cmfy_desk.sandbox.command import run_sandbox_command
from cmfy_desk.sandbox.config import PLANS, PlanLimits, SandboxConfig, Timings
from cmfy_desk.sandbox.faults import FAULT_NAMES, JobFaultPlan, SandboxFaults
from cmfy_desk.sandbox.server import SandboxServer, generate_test_key
from cmfy_desk.sandbox.stats import SandboxStats

__all__ = [
    "FAULT_NAMES",
    "PLANS",
    "JobFaultPlan",
    "PlanLimits",
    "SandboxConfig",
    "SandboxFaults",
    "SandboxServer",
    "SandboxStats",
    "Timings",
    "generate_test_key",
    "run_sandbox_command",
]
