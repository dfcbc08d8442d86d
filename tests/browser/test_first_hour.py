"""A newcomer's first hour, in a real browser: `engage-orders run`, `engage-orders demo` against
it, then the Dagster UI's asset graph, one gold table's page and the intake's API docs.

Each page is checked for what a newcomer is told to look at, waiting for it to render; a passing
run saves the screenshots that the docs show (docs/img/). Select with `pytest -m browser`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from schemas.gold_tables import FACT_ORDER
from tests.browser.support import (
    DEMO_TIMEOUT_S,
    STARTUP_TIMEOUT_S,
    STOP_TIMEOUT_S,
    Screen,
    chromium_page,
    run_demo,
    running_product,
)

pytestmark = pytest.mark.browser

ORDERS = 30
DEMO_OPTIONS = ("--contacts", "10", "--orders", str(ORDERS), "--days", "14")
AS_OF = ("--as-of", "2026-11-01")
LAYERS = ("bronze", "silver", "gold", "segments")
ASSETS = {"bronze": "order_changes", "silver": "orders", "gold": "fact_order_line"}
GROUPS_SIDE_BY_SIDE = "localStorage.setItem('asset-graph-direction', JSON.stringify('vertical'))"
"""The asset graph's layout with the groups side by side, as the UI keeps it in the browser."""
"""An asset of each layer whose name the graph shows whole (long names are cut in the middle)."""

DAY = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
"""A day as the UI writes it in the browser's locale, en-US."""

UI_TIMEOUT_S = 120
"""The first page waits for the webserver to load the code location: up to a minute when slow."""

# A materializable asset's node before its status arrives (or if it never was materialized).
NODE_WITHOUT_STATUS = (
    "[class*=minimalAssetNodeBox][class*=materializable][style*='--color-background-light']"
)


@pytest.mark.timeout(STARTUP_TIMEOUT_S + DEMO_TIMEOUT_S + STOP_TIMEOUT_S + 4 * UI_TIMEOUT_S)
def test_after_the_demo_the_ui_and_the_api_docs_show_what_the_newcomer_is_told_to_look_at(
    tmp_path: Path,
) -> None:
    with running_product(tmp_path) as product:
        run_demo(product, *DEMO_OPTIONS, *AS_OF)
        with chromium_page(tmp_path / "chromium-profile") as page:
            page.context.add_init_script(GROUPS_SIDE_BY_SIDE)
            screen = Screen(page, tmp_path, product)
            check_asset_graph(screen, product.ui_url)
            check_gold_table_page(screen, product.ui_url)
            check_api_docs(screen, product.api_url)


def check_asset_graph(screen: Screen, ui_url: str) -> None:
    """The global asset lineage: the layers as groups, then expanded, with their assets."""
    page = screen.page
    page.goto(f"{ui_url}/asset-groups")
    graph = page.locator("svg foreignObject")
    for layer in LAYERS:
        screen.shows(
            graph.get_by_text(layer, exact=True).first,
            f"the {layer} group in the asset graph",
            timeout_s=UI_TIMEOUT_S,
        )
    with screen.step("the asset graph's sidebar and navigation, hidden, and its groups expanded"):
        page.locator("button:has([aria-label=panel_show_right])").filter(
            has_not_text="navigation"
        ).click()
        page.get_by_role("button", name="Hide navigation").click()
        page.locator("button:has([aria-label=settings])").last.click()  # the graph's
        page.get_by_role("menuitem", name="Expand all groups").click()
        # The menu may stay open, and when slow it fades out over the next click: close it.
        page.keyboard.press("Escape")
        expect(page.get_by_role("menu")).to_have_count(0, timeout=UI_TIMEOUT_S * 1000)
        # Fitted to the collapsed groups: one step back shows the expanded graph whole.
        page.locator("button:has([aria-label=zoom_out])").click()
    for layer, asset in ASSETS.items():
        screen.shows(
            graph.get_by_text(asset, exact=True),
            f"the {layer} asset {asset}",
            timeout_s=UI_TIMEOUT_S,
        )
    with screen.step("every asset the demo built, with its materialization status"):
        expect(page.locator(NODE_WITHOUT_STATUS)).to_have_count(0, timeout=UI_TIMEOUT_S * 1000)
    screen.save("dagster-asset-graph.png")


def check_gold_table_page(screen: Screen, ui_url: str) -> None:
    """fact_order's page: its description and column schema from the table catalogue, and the
    row count of its latest materialization (one row per order of the demo)."""
    page = screen.page
    page.goto(f"{ui_url}/assets/{FACT_ORDER.name}")
    screen.shows(
        page.get_by_text(FACT_ORDER.description), "fact_order's description", timeout_s=UI_TIMEOUT_S
    )
    screen.shows(page.get_by_text("Columns", exact=True), "fact_order's column schema")
    for column in FACT_ORDER.columns[:3]:
        row = (
            page.locator("tr")
            .filter(has=page.get_by_text(column.name, exact=True))
            .filter(has_text=column.description)
        )
        screen.shows(row, f"fact_order's column {column.name} with its description")
    row_count = page.get_by_text("Row count", exact=True).locator("xpath=..")
    with screen.step(f"fact_order's row count ({ORDERS})"):
        expect(row_count).to_have_text(
            re.compile(rf"Row count\s*{ORDERS}\s*$"), timeout=UI_TIMEOUT_S * 1000
        )
    screen.shows(
        page.get_by_text("Latest materialization", exact=True),
        "fact_order's latest materialization",
    )
    # The history's time axis, the last part of the page to load.
    screen.shows(page.get_by_text(DAY).first, "fact_order's asset history")
    screen.save("dagster-asset.png")


def check_api_docs(screen: Screen, api_url: str) -> None:
    """The intake's Swagger UI (served by the intake itself, no CDN): the operations by tag."""
    page = screen.page
    page.goto(f"{api_url}/docs")
    screen.shows(
        page.get_by_role("heading", name=re.compile(r"^engage-orders\b")), "the API docs' title"
    )
    for tag in ("orders", "receipts"):
        screen.shows(
            page.get_by_role("heading").filter(has=page.get_by_role("link", name=tag, exact=True)),
            f"the API docs' {tag} tag",
        )
    screen.shows(
        page.get_by_role("button", name="POST /api/v3/orders Create an order", exact=True),
        "the operation POST /api/v3/orders, Create an order",
    )
    screen.save("api-docs.png")
