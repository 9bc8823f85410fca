"""The interactive API documentation works without internet: every script, style and icon
its pages load comes from the API itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_documentation_pages_load_only_files_the_api_serves(
    client: TestClient, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    loaded = re.findall(r'(?:src|href)="([^"]+)"|url: \'([^\']+)\'', page.text)
    urls = [a or b for a, b in loaded]
    assert urls
    for url in urls:
        assert url.startswith("/"), f"{path} loads {url} from elsewhere"
        assert client.get(url).status_code == 200, url
    assert "cdn." not in page.text
    assert "fonts.googleapis" not in page.text


def test_the_vendored_files_carry_their_licences(client: TestClient) -> None:
    for name in ("swagger-ui.LICENSE", "swagger-ui.NOTICE", "redoc.LICENSE"):
        assert client.get(f"/docs/static/{name}").status_code == 200
