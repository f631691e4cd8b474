"""``cmfy-desk sandbox``: serve the sandbox in the foreground until Ctrl+C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from cmfy_desk.sandbox.config import SandboxConfig
from cmfy_desk.sandbox.faults import SandboxFaults
from cmfy_desk.sandbox.server import SandboxServer

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def run_sandbox_command(
    host: str,
    port: int,
    plan: str,
    speed: float,
    limit_mode: str,
    *,
    faults: str = "",
    fault_seed: int | None = None,
) -> int:
    """Run a sandbox server until interrupted and return the process exit code.

    Prints the base URL and a ready ``sk_test_`` key at start (the sandbox's own test key,
    which bills nothing), then the plan and the active faults, and error messages to stderr.
    ``faults`` takes the ``--faults`` form, such as ``"5xx=0.1,slow=0.2,slow_seconds=3"``.
    """
    try:
        config = SandboxConfig(
            host=host,
            port=port,
            plan=plan,
            speed=speed,
            limit_mode=limit_mode,
            fault_seed=fault_seed,
        )
        injected = SandboxFaults.parse(faults)
    except ValueError as exc:
        print(f"cmfy-desk sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(_serve(config, injected))
    except KeyboardInterrupt:
        # Where the loop has no signal handlers (Windows), Ctrl+C ends asyncio.run here.
        return EXIT_OK
    except OSError as exc:
        print(f"cmfy-desk sandbox: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _serve(config: SandboxConfig, faults: SandboxFaults) -> None:
    server = SandboxServer(config, faults)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        # Windows event loops do not support signal handlers.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    limits = config.plan_limits
    print(f"Base URL:    {server.base_url}  (the API is under /v1)", flush=True)
    print(f"API key:     {server.api_key}", flush=True)
    print(
        f"Plan {config.plan}: {limits.requests_per_minute} requests/min, {limits.running} running, "
        f"{limits.queued} queued; speed x{config.speed}; limit mode {config.limit_mode}",
        flush=True,
    )
    seed = "random" if config.fault_seed is None else str(config.fault_seed)
    print(f"Faults:      {faults.describe()} (seed {seed})", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("Sandbox stopped.", flush=True)
