"""Reading the inputs of a batch plan: prompt lists, CSV files, axis values and image folders.

Each reader raises ValueError with a message that names the file (and line) and the fix.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cmfy_desk.workflows.batch import MAX_BATCH_COUNT

# A prompt list or CSV file of 10000 long prompts is a few MB; a larger file is not one.
MAX_LIST_FILE_BYTES = 16 * 1024 * 1024

INPUT_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")

_CSV_DELIMITERS = (",", ";", "\t")


def read_prompt_list(path: Path) -> list[str]:
    """Return the prompts of a text file, one per line.

    Blank lines and lines starting with ``#`` are skipped, and each prompt is stripped of
    surrounding whitespace. Accepts UTF-8 with or without a byte order mark. Raises ValueError
    for a file that cannot be read, is not UTF-8, or contains no prompt.
    """
    text = _read_text(path, "prompt list")
    prompts = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not prompts:
        raise ValueError(
            f"{path.name}: the prompt list contains no prompts. Write one prompt per line; "
            "lines starting with # are comments."
        )
    if len(prompts) > MAX_BATCH_COUNT:
        raise ValueError(
            f"{path.name}: the prompt list has {len(prompts)} prompts, more than the limit of "
            f"{MAX_BATCH_COUNT} jobs in a batch. Split it into several files."
        )
    return prompts


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Return the rows of a CSV file as dictionaries keyed by its header.

    The header names parameters (``NODE.INPUT`` references or shortcuts such as ``prompt`` and
    ``steps``). The delimiter is the first of comma, semicolon or tab found in the header line,
    so spreadsheet exports with semicolons work. Cells are stripped of surrounding whitespace;
    missing cells at the end of a row are empty. Raises ValueError naming the file and line for
    a missing or duplicate header name, a row with more cells than the header, or a file that
    cannot be read or is not UTF-8.
    """
    text = _read_text(path, "CSV file")
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = next((candidate for candidate in _CSV_DELIMITERS if candidate in header_line), ",")
    # strict mode raises on an unclosed quote instead of reading the rest of the file as one
    # value.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise ValueError(
                f"{path.name}: the CSV file is empty. Its first line must name the "
                "parameters, for example: prompt,steps,cfg"
            )
        columns = [cell.strip() for cell in header]
        _check_header(path, columns, reader.line_num)

        rows: list[dict[str, str]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                raise ValueError(
                    f"{path.name}, line {reader.line_num}: {len(cells)} values, but the header "
                    f"has {len(columns)} columns. Quote values that contain '{delimiter}'."
                )
            values = [cell.strip() for cell in cells] + [""] * (len(columns) - len(cells))
            rows.append(dict(zip(columns, values, strict=True)))
            if len(rows) > MAX_BATCH_COUNT:
                raise ValueError(
                    f"{path.name}: more than {MAX_BATCH_COUNT} rows, the limit of jobs in a "
                    "batch. Split the file into several."
                )
    except csv.Error as exc:
        raise ValueError(
            f"{path.name}, line {reader.line_num}: not valid CSV ({exc}). Check the quotes."
        ) from None
    if not rows:
        raise ValueError(f"{path.name}: the CSV file has a header but no rows. Add one per job.")
    return rows


def parse_axis(text: str) -> tuple[str, tuple[str, ...]]:
    """Split an axis ``KEY=V1,V2,...`` into the key and its values.

    Values are separated by commas, and a value containing a comma is quoted as in CSV:
    ``prompt="a fox, running","a cat"``. Raises ValueError without ``=``, a key or values, or
    with an empty value.
    """
    key, equals, values_text = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ValueError(
            f"'{text}' is not an axis: expected KEY=VALUE1,VALUE2,..., for example "
            "'steps=10,20,30' or '5.cfg=5,7'."
        )
    try:
        cells = next(csv.reader([values_text], skipinitialspace=True), [])
    except csv.Error as exc:
        raise ValueError(f"Axis '{key}': the values are not a valid list ({exc}).") from None
    values = tuple(cell.strip() for cell in cells)
    if not values:
        raise ValueError(f"Axis '{key}' has no values. List them after '=', separated by commas.")
    if any(not value for value in values):
        raise ValueError(
            f"Axis '{key}' has an empty value in '{values_text}'. Remove the extra comma."
        )
    return key, values


def read_image_folder(folder: Path) -> list[Path]:
    """Return the pictures (.png, .jpg, .jpeg, .webp) directly inside ``folder``, sorted by name.

    Raises ValueError for a folder that cannot be read or contains no picture.
    """
    try:
        images = sorted(
            (
                child
                for child in folder.iterdir()
                if child.suffix.lower() in INPUT_IMAGE_SUFFIXES and child.is_file()
            ),
            key=lambda child: (child.name.lower(), child.name),
        )
    except OSError as exc:
        raise ValueError(
            f"{folder.name}: the folder cannot be read ({exc.strerror or exc}). "
            "Check the path and its permissions."
        ) from None
    if not images:
        raise ValueError(
            f"{folder.name}: the folder contains no pictures (.png, .jpg, .webp). Pick the "
            "folder that holds the input images."
        )
    return images


def _check_header(path: Path, columns: list[str], line: int) -> None:
    seen: set[str] = set()
    for index, column in enumerate(columns, start=1):
        if not column:
            raise ValueError(
                f"{path.name}, line {line}: column {index} has no name. Name every column "
                "after a parameter, for example prompt, steps or 5.cfg."
            )
        if column in seen:
            raise ValueError(
                f"{path.name}, line {line}: the column '{column}' appears twice. Keep one."
            )
        seen.add(column)


def _read_text(path: Path, kind: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_LIST_FILE_BYTES:
            raise ValueError(
                f"{path.name}: the {kind} is {size / 1024 / 1024:.1f} MB, larger than the "
                f"{MAX_LIST_FILE_BYTES // 1024 // 1024} MB limit. "
                "Check that this is the right file."
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path.name}: the {kind} was not found. Check the path.") from None
    except IsADirectoryError:
        raise ValueError(f"{path.name}: is a folder, not a {kind}. Pick a file.") from None
    except OSError as exc:
        raise ValueError(
            f"{path.name}: the {kind} cannot be read ({exc.strerror or exc})."
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path.name}, line {line}: the {kind} is not valid UTF-8 text. Save it as UTF-8."
        ) from None
    if "\x00" in text:
        raise ValueError(f"{path.name}: the {kind} is a binary file, not text. Pick a text file.")
    return text
