"""The HTML reports in a real browser: headless Chromium opens each from disk (file://),
logs no console errors, renders its charts at a visible size, and leaves a screenshot.

Chromium comes from the Debian packages `chromium` and `chromium-driver`
(scripts/ensure_chromium.sh installs them). Without a browser the tests skip, except
under CI=true, where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest
from report_support import ensure_chromium, start_driver, write_tiny_run, write_tiny_service

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
    run = load_run(write_tiny_service(write_tiny_run(root / "run")))
    roster = write_roster_report(run, root / "run" / "report.html", None, "EUR")
    fit = [p for p in write_fit_report(fit_report_data(load_site(demo_site)), root / "hr", pseudonymise=True) if p.suffix == ".html"][0]
    return {"roster": roster, "fit": fit}


CHART_IDS = {
    "roster": ["coverage-chart", "gap-heatmap", "fit-histogram", "rule-chart", "service-chart"],
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


def _shot(element, path: Path) -> None:
    assert element.screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2_000, path


def test_roster_report_new_parts_fit_a_900px_window(browser, reports, tmp_path):
    from selenium.webdriver.common.by import By

    browser.set_window_size(900, 1200)
    browser.get(reports["roster"].resolve().as_uri())
    width = browser.execute_script("return document.documentElement.clientWidth")
    for chart_id in ("gap-heatmap", "coverage-chart", "service-chart"):
        svg = browser.find_element(By.CSS_SELECTOR, f"#{chart_id} svg")
        right = browser.execute_script("return arguments[0].getBoundingClientRect().right", svg)
        assert right <= width + 1, (chart_id, right, width)  # scaled to the window, not cut off
    warnings = browser.find_element(By.ID, "warnings")
    assert "short of their requirement" in warnings.text and "miss their service-level target in simulation" in warnings.text
    assert browser.find_element(By.CSS_SELECTOR, '[data-key="cost"] .value').text == "360.00 EUR"
    for part in ("warnings", "gap-heatmap", "service"):
        _shot(browser.find_element(By.ID, part), tmp_path / f"roster-{part}.png")


def test_fit_report_agent_table_sorts_and_filters(browser, reports, tmp_path):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1400, 1000)
    browser.get(reports["fit"].resolve().as_uri())
    assert [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"] == []
    summary = browser.find_element(By.ID, "fairness-summary")
    assert "comparisons" in summary.text and "Benjamini-Hochberg" in summary.text
    _shot(summary, tmp_path / "fit-fairness-summary.png")
    table = browser.find_element(By.ID, "agents-table")
    assert not table.is_displayed()  # collapsed until asked for
    browser.execute_script("arguments[0].closest('details').open = true", table)
    rows = lambda: [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]  # noqa: E731
    n = len(rows())
    assert n == 60
    fit_col = 7
    header = table.find_elements(By.CSS_SELECTOR, "thead th")[fit_col]
    header.click()
    fits = [float(r.find_elements(By.TAG_NAME, "td")[fit_col].text) for r in rows()]
    assert fits == sorted(fits)
    header.click()
    fits = [float(r.find_elements(By.TAG_NAME, "td")[fit_col].text) for r in rows()]
    assert fits == sorted(fits, reverse=True)
    first = rows()[0].find_elements(By.TAG_NAME, "td")[0].text
    box = browser.find_element(By.CSS_SELECTOR, 'input[data-filter="agents-table"]')
    box.send_keys(first)
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows()] == [first]
    _shot(browser.find_element(By.ID, "agents"), tmp_path / "fit-agents.png")
