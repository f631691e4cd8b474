"""How long a gallery search takes over 100,000 indexed images.

Fills a database with 100,000 image rows shaped like a working library: 50 batches, six
models, prompts drawn from a vocabulary of 400 words, three months of dates, some ratings,
favourites and tags. Then times a mix of search lines as the gallery runs them: parse the
line, fetch the first page of 200 rows and count all matches. Facets are timed on their own,
because the gallery requests them once per query rather than per keystroke.

    python tests/benchmarks/search.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from cmfy_desk.outputs.query import parse_query
from cmfy_desk.store import ImageData, ImageSource, Store

GOAL_MS = 50.0
IMAGES = 100_000
BATCHES = 50
PAGE = 200
MODELS = [
    "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/"
    "sd_xl_base_1.0.safetensors",
    "https://huggingface.co/stabilityai/stable-diffusion-xl-refiner-1.0/resolve/main/"
    "sd_xl_refiner_1.0.safetensors",
    "https://huggingface.co/Comfy-Org/stable-diffusion-v1-5-archive/resolve/main/"
    "v1-5-pruned-emaonly-fp16.safetensors",
    "https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/"
    "flux1-schnell.safetensors",
    "https://civitai.com/api/download/models/128713",
    "juggernautXL_v9.safetensors",
]
SAMPLERS = ["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_sde", "ddim", "uni_pc"]
COMMON_TEXT = (
    "red fox cat dog lighthouse cliff dusk warm light lantern waves pastel sky cinematic "
    "portrait forest snow mountain river city night neon rain castle dragon knight robot "
    "space ship ocean beach sunset flower garden girl boy old man woman cyberpunk "
    "steampunk watercolor oil painting sketch anime photo realistic detailed masterpiece "
    "golden hour fog desert temple market train bridge tower moon stars"
)
NEGATIVE_TEXT = "blurry low quality watermark text jpeg artifacts deformed hands extra"
NEGATIVE_WORDS = tuple(NEGATIVE_TEXT.split())
QUERIES = [
    "",
    "fox",
    "red fox",
    "lig",
    "f",
    "li",
    '"red fox"',
    "fox -snow",
    "seed:123456",
    "model:sdxl",
    "model:flux fox",
    "rating:>=4",
    "date:2026-11",
    "date:>2026-11-20 fox",
    "date:2026-10-01..2026-10-15",
    "fox model:sd_xl rating:>=3 -blurry",
    "steps:>20 cfg:<=7.5 sampler:euler",
    "is:favourite",
    "tag:portfolio",
    "batch:12",
    "size:1024x1024 lighthouse",
    "castle neon rain",
    "neg:watermark",
]


def vocabulary(rng: random.Random) -> list[str]:
    """Return 400 words: 61 common subject words and 339 made-up rarer ones."""
    common = COMMON_TEXT.split()
    letters = "abcdefghijklmnopqrstuvwxyz"
    rare = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(400)}
    return common + sorted(rare)[: 400 - len(common)]


def fill(store: Store, rng: random.Random) -> None:
    words = vocabulary(rng)
    # Zipf-like weights: the first words are far more common than the last.
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    start = datetime(2026, 9, 1).timestamp()
    span = 90 * 86400.0

    batch_ids = []
    for number in range(BATCHES):
        batch, _jobs = store.add_batch(
            name=f"batch {number} {rng.choice(words)}",
            workflow_name="wf",
            workflow_path="wf.json",
            connection="cloud" if number % 3 else "studio",
            seed_mode="increment",
            output_dir=f"/out/{number}",
            jobs=[],
        )
        batch_ids.append(batch.id)

    rows = []
    for index in range(IMAGES):
        batch_number = index * BATCHES // IMAGES
        model = MODELS[batch_number % len(MODELS)]
        size = rng.choice([(1024, 1024), (832, 1216), (512, 512), (768, 768)])
        rows.append(
            ImageData(
                path=f"/library/batch{batch_number:03d}/image{index:06d}.png",
                source=ImageSource.JOB,
                created_at=start + span * index / IMAGES,
                batch_id=batch_ids[batch_number],
                connection="cloud" if batch_number % 3 else "studio",
                prompt=" ".join(rng.choices(words, weights, k=rng.randint(8, 20))),
                negative=", ".join(rng.sample(NEGATIVE_WORDS, 4)),
                seed=rng.randrange(2**53) if index % 50 else 123456,
                steps=rng.choice([4, 20, 25, 30, 40]),
                cfg=rng.choice([1.0, 5.0, 6.5, 7.0, 7.5, 8.0]),
                sampler=rng.choice(SAMPLERS),
                width=size[0],
                height=size[1],
                models=(model.rsplit("/", 1)[-1],),
                model_urls=(model,),
                file_size=1_500_000,
                file_mtime_ns=index,
            )
        )
        if len(rows) == 5000:
            store.gallery.upsert(rows)
            rows = []
    if rows:
        store.gallery.upsert(rows)

    ids = list(range(1, IMAGES + 1))
    store.gallery.set_rating(rng.sample(ids, IMAGES // 10), 4)
    store.gallery.set_rating(rng.sample(ids, IMAGES // 20), 5)
    store.gallery.set_favourite(rng.sample(ids, IMAGES // 30), True)
    store.gallery.add_tags(rng.sample(ids, IMAGES // 20), ["portfolio"])


def percentile(times: list[float], fraction: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of the queries, not 15")
    options = parser.parse_args()
    rounds = 3 if options.quick else 15
    rng = random.Random(20261124)
    with tempfile.TemporaryDirectory() as scratch:
        store = Store.open(Path(scratch) / "db.sqlite3")
        started = time.perf_counter()
        fill(store, rng)
        fill_seconds = time.perf_counter() - started
        gallery = store.gallery
        # A folder scan does this after indexing many files; the engine should after a backfill.
        gallery.analyze()

        per_query: dict[str, list[float]] = {query: [] for query in QUERIES}
        matches: dict[str, int] = {}
        facet_times: list[float] = []
        for round_number in range(rounds):
            for text in QUERIES:
                begin = time.perf_counter()
                query = parse_query(text)
                gallery.search(query, limit=PAGE)
                matches[text] = gallery.count(query)
                per_query[text].append(time.perf_counter() - begin)
                if round_number == 0:
                    begin = time.perf_counter()
                    gallery.facets(query)
                    facet_times.append(time.perf_counter() - begin)
        store.close()

    print(f"images indexed: {IMAGES}, filling the database: {fill_seconds:.1f} s")
    print(f"{'query':<40} {'matches':>8} {'median ms':>10} {'max ms':>8}")
    for text, times in per_query.items():
        print(
            f"{text or '(everything)':<40} {matches[text]:>8} "
            f"{percentile(times, 0.5) * 1000:>10.1f} {max(times) * 1000:>8.1f}"
        )
    every_time = [value for times in per_query.values() for value in times]
    p95_ms = percentile(every_time, 0.95) * 1000
    print(
        f"search (first page of {PAGE} and count): median "
        f"{percentile(every_time, 0.5) * 1000:.1f} ms, p95 {p95_ms:.1f} ms over "
        f"{len(every_time)} searches"
    )
    print(
        f"facets: median {percentile(facet_times, 0.5) * 1000:.1f} ms, max "
        f"{max(facet_times) * 1000:.1f} ms over {len(facet_times)} queries"
    )
    print(f"search_p95: {p95_ms:.1f} ms (goal {GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
