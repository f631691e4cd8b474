"""The API base URL setting: tolerated forms and rejected ones."""

from __future__ import annotations

import pytest

from cmfy_desk.backends.cmfy_cloud import check_base_url, normalize_base_url


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8787", "http://127.0.0.1:8787/", "http://127.0.0.1:8787/v1/"]
)
def test_base_url_with_or_without_v1(base_url: str) -> None:
    assert normalize_base_url(base_url) == "http://127.0.0.1:8787"


@pytest.mark.parametrize("base_url", ["", "ftp://host", "api.cmfy.cloud", "http://"])
def test_bad_base_url_is_reported(base_url: str) -> None:
    assert check_base_url(base_url) is not None


def test_good_base_url_passes() -> None:
    assert check_base_url("https://api.cmfy.cloud") is None
