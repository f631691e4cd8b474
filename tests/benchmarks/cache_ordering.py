"""How many cold starts cache-aware ordering saves against first-in-first-out.

A batch mixes three model sets (the SD 1.5 sample workflow with three different checkpoint
URLs), queued interleaved A, B, C, A, B, C... It runs twice against the built-in sandbox, once
in queue order and once with cache-aware ordering, and compares the sandbox's own count of
cache misses (model downloads). The sandbox's simulated GPU nodes (two on the free plan) each
keep the last two model URLs they loaded: an assumption, since the service does not publish its
node cache size.

    python tests/benchmarks/cache_ordering.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import sys
import tempfile
from pathlib import Path

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.sandbox import SandboxConfig, SandboxServer, Timings
from cmfy_desk.scheduler import SchedulerOptions
from cmfy_desk.store import FINAL_STATUSES
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import LoadedWorkflow, load_workflow_file

GOAL = 0.5
HF = "https://huggingface.co"
CHECKPOINTS = (
    f"{HF}/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/v1-5-pruned-emaonly.safetensors",
    f"{HF}/Lykon/DreamShaper/resolve/main/DreamShaper_8_pruned.safetensors",
    f"{HF}/SG161222/Realistic_Vision_V5.1_noVAE/resolve/main/Realistic_Vision_V5.1_fp16-no-ema.safetensors",
)


def _variants() -> list[LoadedWorkflow]:
    base = load_workflow_file(next(p for p in bundled_workflows() if p.stem == "sd15_txt2img"))
    variants = []
    for index, url in enumerate(CHECKPOINTS):
        graph = copy.deepcopy(base.graph)
        for node in graph.values():
            if node["class_type"] == "CheckpointLoaderSimple":
                node["inputs"]["ckpt_name"] = url
        variants.append(LoadedWorkflow(base.path, f"model-{index}", graph))
    return variants


async def measure(rounds: int, cache_aware: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sandbox = SandboxServer(
            SandboxConfig(
                plan="free",
                speed=20,
                output_dir=root / "sb",
                timings=Timings(node_cache_size=2),
            )
        )
        await sandbox.start()
        engine = Engine(
            root / "db.sqlite3",
            root / "out",
            ConnectionConfig(kind="cmfy", base_url=sandbox.base_url, api_key=sandbox.api_key),
            options=SchedulerOptions(cache_aware=cache_aware, start_paused=True),
        )
        await engine.start()
        batch_ids = set()
        variants = _variants()
        for _round in range(rounds):
            for workflow in variants:
                batch, _ = engine.add_batch(workflow, 1, SeedMode.RANDOM)
                batch_ids.add(batch.id)
        engine.scheduler.resume()
        while any(job.status not in FINAL_STATUSES for job in engine.store.jobs()):
            await asyncio.sleep(0.05)
        stats = sandbox.stats
        await engine.stop()
        await sandbox.stop()
    return {
        "jobs": rounds * len(CHECKPOINTS),
        "misses": stats["cache"]["misses"],
        "hits": stats["cache"]["hits"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 rounds instead of 10")
    options = parser.parse_args()
    rounds = 4 if options.quick else 10
    fifo = asyncio.run(measure(rounds, cache_aware=False))
    aware = asyncio.run(measure(rounds, cache_aware=True))
    for label, result in (("first-in-first-out", fifo), ("cache-aware", aware)):
        print(
            f"{label}: {result['jobs']} jobs, {result['misses']} cold starts, {result['hits']} hits"
        )
    ratio = aware["misses"] / fifo["misses"] if fifo["misses"] else 1.0
    print(f"cache_ordering: {ratio:.2f} of the cold starts of first-in-first-out (goal <= {GOAL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
