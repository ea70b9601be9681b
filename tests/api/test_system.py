"""Health, version, metrics, info, the docs and the UI page."""

from __future__ import annotations

import httpx

from retail_datagen import __version__


async def test_health_and_version(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "version": __version__}
    assert (await client.get("/version")).json()["version"] == __version__


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "retail_datagen_tasks_running 0.0" in response.text


async def test_info_tells_the_ui_about_the_server(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/info")).json()
    assert info["auth_required"] is False
    assert info["data_dir"].endswith("data")
    assert info["config_file"].endswith("config.json")


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/generate/facts" in schema["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_ui_page_and_its_assets_are_local(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert 'role="tablist"' in page.text
    assert "http://" not in page.text.replace("http://127.0.0.1:8000", "")  # no CDN
    for asset in ("/static/app.css", "/static/js/app.js", "/static/js/charts.js"):
        response = await client.get(asset)
        assert response.status_code == 200, asset


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
