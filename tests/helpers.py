"""Shared pieces of the tests: a sandbox on a free loopback port and waiting for conditions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from cmfy_desk.sandbox import PlanLimits, SandboxConfig, SandboxServer


@contextlib.asynccontextmanager
async def running_sandbox(
    tmp_path: Path,
    *,
    speed: float = 100.0,
    limits: PlanLimits | None = None,
    limit_mode: str = "queue",
) -> AsyncIterator[SandboxServer]:
    server = SandboxServer(
        SandboxConfig(
            speed=speed, limits=limits, limit_mode=limit_mode, output_dir=tmp_path / "sandbox"
        )
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait on the running loop until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)
