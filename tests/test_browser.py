"""The HTML reports in a real browser: headless Chromium opens each from disk (file://),
logs no console errors, renders its charts at a visible size, and leaves a screenshot.

Chromium comes from the Debian packages `chromium` and `chromium-driver`
(scripts/ensure_chromium.sh installs them). Without a browser the tests skip, except
under CI=true, where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest
from report_support import ensure_chromium, start_driver, write_tiny_run

from staffing.reports import fit_report_data, load_run, write_fit_report, write_roster_report
from staffing.site import load_site


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    pytest.importorskip("selenium", reason="selenium is a dev extra: pip install -e .[dev]")
    chromium, driver, log = ensure_chromium()
    if not (chromium and driver):
        reason = f"headless Chromium not found and could not be installed (scripts/ensure_chromium.sh): {log or 'no output'}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    d = start_driver(chromium, driver, tmp_path_factory.mktemp("chromium-profile"))
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def reports(tmp_path_factory, demo_site) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    run = load_run(write_tiny_run(root / "run"))
    roster = write_roster_report(run, root / "run" / "report.html")
    fit = [p for p in write_fit_report(fit_report_data(load_site(demo_site)), root / "hr", pseudonymise=True) if p.suffix == ".html"][0]
    return {"roster": roster, "fit": fit}


CHART_IDS = {
    "roster": ["coverage-chart", "gap-heatmap", "fit-histogram", "rule-chart"],
    "fit": ["needs-chart", "impact-sex", "impact-race_ethnicity", "impact-sex-x-race_ethnicity"],
}


@pytest.mark.parametrize("name", ["roster", "fit"])
def test_report_renders_in_headless_chromium(browser, reports, name, tmp_path):
    from selenium.webdriver.common.by import By

    path = reports[name]
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == [], severe
    for chart_id in CHART_IDS[name]:
        svg = browser.find_element(By.CSS_SELECTOR, f"#{chart_id} svg")
        box = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", svg)
        assert box[0] > 50 and box[1] > 20, (chart_id, box)
        # marks were drawn: the chart has shapes, not an empty frame
        assert browser.execute_script("return arguments[0].querySelectorAll('path, rect, line').length", svg) > 3, chart_id
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith({"roster": "Roster report", "fit": "Fit report"}[name])
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, min(max(int(height), 800), 6000))
    shot = tmp_path / f"{name}.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
