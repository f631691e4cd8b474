"""Expanding a workflow into a batch: prompt lists, CSV rows, XY grids, seed lists, estimates."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.workflows.batch import SeedMode, expand_batch
from cmfy_desk.workflows.batch_files import (
    parse_axis,
    read_csv_rows,
    read_image_folder,
    read_prompt_list,
)
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import (
    LARGE_BATCH,
    BatchPlan,
    UploadsNotSupportedError,
    check_uploads,
    count_jobs,
    estimate,
    grid_labels,
    job_cost,
    plan_jobs,
    resolution_factor,
)
from cmfy_desk.workflows.graph import Graph


def fox() -> Graph:
    path = next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    graph: Graph = json.loads(path.read_text(encoding="utf-8"))
    return graph


def img2img() -> Graph:
    graph = fox()
    graph["8"] = {"class_type": "LoadImage", "inputs": {"image": "start.png"}}
    return graph


@pytest.fixture(scope="module")
def definitions() -> NodeDefinitions:
    return NodeDefinitions.bundled()


def test_default_plan_is_one_job(definitions: NodeDefinitions) -> None:
    jobs = plan_jobs(fox(), BatchPlan(), definitions, rng=random.Random(1))
    assert len(jobs) == 1
    assert jobs[0].grid_position is None
    assert jobs[0].parameters == {"seed": jobs[0].seed}


def test_plan_matches_expand_batch(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(count=4, seed_mode=SeedMode.INCREMENT, base_seed=10)
    planned = plan_jobs(fox(), plan, definitions)
    expanded = expand_batch(fox(), 4, SeedMode.INCREMENT, base_seed=10)
    assert [job.seed for job in planned] == [10, 11, 12, 13]
    assert [job.graph for job in planned] == [job.graph for job in expanded]


def test_seed_list_one_job_each(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(seed_mode=SeedMode.LIST, seeds=(7, 70, 700))
    jobs = plan_jobs(fox(), plan, definitions)
    assert [job.seed for job in jobs] == [7, 70, 700]
    assert [job.graph["5"]["inputs"]["seed"] for job in jobs] == [7, 70, 700]
    assert [job.parameters["seed"] for job in jobs] == [7, 70, 700]


def test_seed_list_count_mismatch_rejected(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(count=2, seed_mode=SeedMode.LIST, seeds=(1, 2, 3))
    with pytest.raises(ValueError, match=r"seed list has 3 seeds"):
        plan_jobs(fox(), plan, definitions)


def test_empty_seed_list_rejected(definitions: NodeDefinitions) -> None:
    with pytest.raises(ValueError, match=r"seed list is empty"):
        plan_jobs(fox(), BatchPlan(seed_mode=SeedMode.LIST), definitions)


def test_seed_list_out_of_range_rejected(definitions: NodeDefinitions) -> None:
    with pytest.raises(ValueError, match=r"seed must be between 0"):
        plan_jobs(fox(), BatchPlan(seed_mode=SeedMode.LIST, seeds=(1, 2**64)), definitions)


def test_expand_batch_seed_list() -> None:
    jobs = expand_batch(fox(), 1, SeedMode.LIST, seeds=[3, 4])
    assert [job.seed for job in jobs] == [3, 4]


def test_prompt_list_jobs(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(count=2, seed_mode=SeedMode.INCREMENT, base_seed=100, prompts=("a", "b"))
    jobs = plan_jobs(fox(), plan, definitions)
    assert count_jobs(plan) == 4
    assert len(jobs) == 4
    assert [job.graph["2"]["inputs"]["text"] for job in jobs] == ["a", "a", "b", "b"]
    assert [job.parameters["prompt"] for job in jobs] == ["a", "a", "b", "b"]
    # Increment keeps counting from one prompt to the next.
    assert [job.seed for job in jobs] == [100, 101, 102, 103]
    assert [job.index for job in jobs] == [0, 1, 2, 3]


def test_random_seeds_differ_between_prompts(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(count=1, prompts=("a", "b", "c"))
    jobs = plan_jobs(fox(), plan, definitions, rng=random.Random(5))
    assert len({job.seed for job in jobs}) == 3


def test_csv_rows_jobs(definitions: NodeDefinitions) -> None:
    rows = (
        {"prompt": "a fox", "steps": "10", "5.cfg": "4.5"},
        {"prompt": "a hare", "steps": "30", "5.cfg": ""},
    )
    plan = BatchPlan(count=1, seed_mode=SeedMode.FIXED, base_seed=1, rows=rows)
    jobs = plan_jobs(fox(), plan, definitions)
    assert len(jobs) == 2
    assert jobs[0].graph["2"]["inputs"]["text"] == "a fox"
    assert jobs[0].graph["5"]["inputs"]["steps"] == 10
    assert jobs[0].graph["5"]["inputs"]["cfg"] == 4.5
    assert jobs[1].graph["5"]["inputs"]["cfg"] == 7.0
    assert jobs[0].parameters == {"prompt": "a fox", "steps": 10, "5.cfg": 4.5, "seed": 1}
    assert jobs[1].parameters == {"prompt": "a hare", "steps": 30, "seed": 1}


def test_csv_bad_value_names_row_and_column(definitions: NodeDefinitions) -> None:
    rows = ({"steps": "10"}, {"steps": "-3"})
    with pytest.raises(ValueError, match=r"CSV row 2, column 'steps': .*-3 is out of range"):
        plan_jobs(fox(), BatchPlan(rows=rows), definitions)


def test_csv_bad_column_named(definitions: NodeDefinitions) -> None:
    rows = ({"5.stepz": "10"},)
    with pytest.raises(ValueError, match=r"CSV column '5.stepz': .*has no input 'stepz'"):
        plan_jobs(fox(), BatchPlan(rows=rows), definitions)


def test_prompts_with_csv_are_cartesian(definitions: NodeDefinitions) -> None:
    rows = ({"steps": "10"}, {"steps": "20"}, {"steps": "30"})
    plan = BatchPlan(count=1, prompts=("a", "b"), rows=rows)
    jobs = plan_jobs(fox(), plan, definitions, rng=random.Random(1))
    assert count_jobs(plan) == 6
    pairs = [(job.parameters["prompt"], job.parameters["steps"]) for job in jobs]
    assert pairs == [("a", 10), ("a", 20), ("a", 30), ("b", 10), ("b", 20), ("b", 30)]


def test_prompt_list_and_prompt_column_conflict(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(prompts=("a",), rows=({"2.text": "b"},))
    with pytest.raises(ValueError, match=r"both set input 'text' of node 2"):
        plan_jobs(fox(), plan, definitions)


def test_xy_grid_jobs(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(
        count=2,
        seed_mode=SeedMode.RANDOM,
        x_axis=parse_axis("steps=10,20,30"),
        y_axis=parse_axis("cfg=5,7"),
    )
    jobs = plan_jobs(fox(), plan, definitions, rng=random.Random(3))
    assert count_jobs(plan) == 12
    assert len(jobs) == 12
    cells = [(job.grid_position, job.parameters["steps"], job.parameters["cfg"]) for job in jobs]
    assert cells[0] == ((0, 0), 10, 5.0)
    assert cells[2] == ((1, 0), 20, 5.0)
    assert cells[6] == ((0, 1), 10, 7.0)
    assert cells[11] == ((2, 1), 30, 7.0)
    assert jobs[11].graph["5"]["inputs"]["steps"] == 30
    assert jobs[11].graph["5"]["inputs"]["cfg"] == 7.0
    # Every cell uses the same two seeds, so pictures differ only by the axis values.
    seeds = [job.seed for job in jobs]
    assert len(set(seeds)) == 2
    assert seeds[0:2] == seeds[10:12]


def test_x_axis_alone(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(x_axis=parse_axis("sampler=euler,heun"))
    jobs = plan_jobs(fox(), plan, definitions)
    assert [job.grid_position for job in jobs] == [(0, 0), (1, 0)]
    labels = grid_labels(plan)
    assert labels is not None
    assert labels.x_labels == ["euler", "heun"]
    assert labels.y_labels == [""]


def test_grid_labels_both_axes() -> None:
    plan = BatchPlan(x_axis=("steps", ("10", "20")), y_axis=("KSampler.cfg", ("5", "7")))
    labels = grid_labels(plan)
    assert labels is not None
    assert labels.x_title == "steps"
    assert labels.y_title == "KSampler.cfg"
    assert labels.y_labels == ["5", "7"]
    assert grid_labels(BatchPlan()) is None


def test_axis_bad_value_named(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(x_axis=parse_axis("sampler=euler,eulr"))
    with pytest.raises(ValueError, match=r"x axis value 'eulr'"):
        plan_jobs(fox(), plan, definitions)


def test_same_parameter_on_both_axes_rejected(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(x_axis=("steps", ("1",)), y_axis=("5.steps", ("2",)))
    with pytest.raises(ValueError, match=r"both set input 'steps' of node 5"):
        plan_jobs(fox(), plan, definitions)


def test_size_axis(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(x_axis=parse_axis("size=512x512,768x512"))
    jobs = plan_jobs(fox(), plan, definitions)
    assert jobs[1].graph["4"]["inputs"]["width"] == 768
    assert jobs[1].parameters["size"] == "768x512"


def test_fixed_values_in_every_job(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(count=3, values={"steps": "8", "negative": "fog"})
    jobs = plan_jobs(fox(), plan, definitions, rng=random.Random(2))
    assert all(job.graph["5"]["inputs"]["steps"] == 8 for job in jobs)
    assert all(job.graph["3"]["inputs"]["text"] == "fog" for job in jobs)
    assert jobs[0].parameters["steps"] == 8
    assert jobs[0].parameters["negative"] == "fog"


def test_axis_overrides_fixed_value(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(values={"steps": "8"}, x_axis=("steps", ("12", "16")))
    jobs = plan_jobs(fox(), plan, definitions)
    assert [job.graph["5"]["inputs"]["steps"] for job in jobs] == [12, 16]


def test_explicit_seed_wins_over_mode(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(seed_mode=SeedMode.RANDOM, x_axis=("seed", ("1", "2")))
    jobs = plan_jobs(fox(), plan, definitions, rng=random.Random(4))
    assert [job.seed for job in jobs] == [1, 2]
    assert [job.graph["5"]["inputs"]["seed"] for job in jobs] == [1, 2]


def test_bad_fixed_value_named(definitions: NodeDefinitions) -> None:
    with pytest.raises(ValueError, match=r"steps .*'x' is not a whole number"):
        plan_jobs(fox(), BatchPlan(values={"steps": "x"}), definitions)


def test_job_limit_enforced(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(count=5000, prompts=("a", "b", "c"))
    assert count_jobs(plan) == 15000
    with pytest.raises(ValueError, match=r"15000 jobs, more than the limit of 10000"):
        plan_jobs(fox(), plan, definitions)


def test_input_images_need_uploads(tmp_path: Path, definitions: NodeDefinitions) -> None:
    images = (tmp_path / "a.png", tmp_path / "b.png")
    plan = BatchPlan(input_images=images)
    assert plan.needs_uploads
    with pytest.raises(UploadsNotSupportedError, match=r"cmfy.cloud does not accept uploads yet"):
        check_uploads(plan, accepts_uploads=False)
    check_uploads(plan, accepts_uploads=True)
    check_uploads(BatchPlan(), accepts_uploads=False)
    jobs = plan_jobs(img2img(), plan, definitions, rng=random.Random(1))
    assert [job.graph["8"]["inputs"]["image"] for job in jobs] == ["a.png", "b.png"]
    assert [dict(job.uploads) for job in jobs] == [{"8.image": images[0]}, {"8.image": images[1]}]
    assert jobs[0].parameters["image"] == str(images[0])


def test_input_images_need_load_image(tmp_path: Path, definitions: NodeDefinitions) -> None:
    plan = BatchPlan(input_images=(tmp_path / "a.png",))
    with pytest.raises(ValueError, match=r"no LoadImage node"):
        plan_jobs(fox(), plan, definitions)


def test_jobs_have_own_graphs(definitions: NodeDefinitions) -> None:
    graph = fox()
    jobs = plan_jobs(graph, BatchPlan(count=2, prompts=("a",)), definitions)
    jobs[0].graph["5"]["inputs"]["steps"] = 99
    assert jobs[1].graph["5"]["inputs"]["steps"] == 20
    assert graph == fox()


def test_resolution_factor_points() -> None:
    assert resolution_factor(512 * 512) == 1.0
    assert resolution_factor(768 * 768) == 1.5
    assert 2.0 <= resolution_factor(1024 * 1024) <= 3.0
    assert 6.0 <= resolution_factor(2048 * 2048) <= 10.0
    assert 1.0 < resolution_factor(640 * 640) < 1.5
    assert resolution_factor(4096 * 4096) > resolution_factor(2048 * 2048)
    assert resolution_factor(64 * 64) == 0.5


def test_job_cost_scales_with_steps_and_batch() -> None:
    graph = fox()
    assert job_cost(graph) == 1.0
    graph["5"]["inputs"]["steps"] = 40
    graph["4"]["inputs"]["batch_size"] = 2
    assert job_cost(graph) == 4.0


def test_estimate_sums_jobs(definitions: NodeDefinitions) -> None:
    plan = BatchPlan(x_axis=("size", ("512x512", "768x768")), count=3)
    result = estimate(plan_jobs(fox(), plan, definitions))
    assert result.job_count == 6
    assert result.relative_cost == pytest.approx(3 * 1.0 + 3 * 1.5)
    assert LARGE_BATCH == 500


def test_read_prompt_list(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_bytes("\ufeff# animals\n a fox \n\n  # skipped\na hare\r\ncafé crème\n".encode())
    assert read_prompt_list(path) == ["a fox", "a hare", "café crème"]


def test_prompt_list_empty_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty.txt: the prompt list contains no prompts"):
        read_prompt_list(path)


def test_prompt_list_not_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("a fox\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.txt, line 2: the prompt list is not valid UTF-8"):
        read_prompt_list(path)


def test_prompt_list_missing_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"gone.txt: the prompt list was not found"):
        read_prompt_list(tmp_path / "gone.txt")


def test_read_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_bytes(
        '\ufeffprompt,steps,KSampler.cfg\n"a fox, in snow",20,7\n\na hare,30\n'.encode()
    )
    assert read_csv_rows(path) == [
        {"prompt": "a fox, in snow", "steps": "20", "KSampler.cfg": "7"},
        {"prompt": "a hare", "steps": "30", "KSampler.cfg": ""},
    ]


def test_read_csv_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("prompt;cfg\na fox;7,5\n", encoding="utf-8")
    assert read_csv_rows(path) == [{"prompt": "a fox", "cfg": "7,5"}]


def test_csv_extra_value_names_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("prompt,steps\na,1\nb,2,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"wide.csv, line 3: 3 values, but the header has 2"):
        read_csv_rows(path)


def test_csv_duplicate_column_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("steps,steps\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dup.csv, line 1: the column 'steps' appears twice"):
        read_csv_rows(path)


def test_csv_unnamed_column_rejected(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("steps,\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"column 2 has no name"):
        read_csv_rows(path)


def test_csv_without_rows_rejected(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("steps\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"header but no rows"):
        read_csv_rows(path)


def test_csv_unclosed_quote_rejected(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('prompt\n"a fox\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"quote.csv"):
        read_csv_rows(path)


def test_parse_axis_values() -> None:
    assert parse_axis("steps=10,20,30") == ("steps", ("10", "20", "30"))
    assert parse_axis("5.cfg = 5, 7.5") == ("5.cfg", ("5", "7.5"))
    assert parse_axis('prompt="a fox, running",a cat') == ("prompt", ("a fox, running", "a cat"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps", "not an axis"),
        ("=1,2", "not an axis"),
        ("steps=", "has no values"),
        ("steps=1,,2", "empty value"),
    ],
)
def test_parse_axis_rejects(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        parse_axis(text)


def test_read_image_folder(tmp_path: Path) -> None:
    for name in ["b.PNG", "a.jpg", "c.webp", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    assert [path.name for path in read_image_folder(tmp_path)] == ["a.jpg", "b.PNG", "c.webp"]


def test_read_image_folder_empty_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"contains no pictures"):
        read_image_folder(tmp_path)
