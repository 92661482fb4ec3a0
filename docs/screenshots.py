"""Screenshots of the main pages for the README, taken from the running demo in Chromium.

    make run            # in one terminal: the demo on http://127.0.0.1:8000/
    .venv/bin/python docs/screenshots.py [--base http://127.0.0.1:8000] [--language lv]

Writes docs/screenshots/*.png. Uses Debian's Chromium (/usr/bin/chromium) through Playwright.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

DESK, PHONE = (1280, 900), (375, 812)
# (file name, path, account or None, full page, screen)
PAGES = [
    ("first-screen", "/my/", "demo-viewer", False, DESK),
    ("first-screen-phone", "/my/", "demo-viewer", False, PHONE),
    ("overview", "/comparisons/dashboards/T3/?period=2024", "demo-viewer", False, DESK),
    ("overview-phone", "/comparisons/dashboards/T3/?period=2024", "demo-viewer", False, PHONE),
    ("indicator", "/comparisons/dashboards/T3/indicators/{indicator}/?period=2024", "demo-viewer", False, DESK),
    ("profile", "/comparisons/dashboards/T3/municipalities/LV0020000/?period=2024", "demo-viewer", False, DESK),
    ("map", "/comparisons/dashboards/T3/map/?period=2024", "demo-viewer", False, DESK),
    ("staff-form", "/rounds/mine/", "demo-staff", False, DESK),
    ("landing", "/", None, False, DESK),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--language", default="lv")
    parser.add_argument("--indicator", default="HEAT_COST_M2")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        sessions = {}
        for name, path, account, full, (width, height) in PAGES:
            if (account, width) not in sessions:
                context = browser.new_context(
                    locale=args.language, viewport={"width": width, "height": height}, device_scale_factor=1
                )
                context.add_cookies([{"name": "django_language", "value": args.language, "url": args.base}])
                page = context.new_page()
                if account:
                    page.goto(f"{args.base}/accounts/login/")
                    page.fill("input[name=username]", account)
                    page.fill("input[name=password]", "benchlearning-demo")
                    page.click("#content form button[type=submit]")
                    page.wait_for_load_state("networkidle")
                sessions[account, width] = page
            page = sessions[account, width]
            page.goto(args.base + path.format(indicator=args.indicator))
            page.wait_for_load_state("networkidle")
            if name == "staff-form":
                link = page.locator("#content a[href*='/municipalities/LV0020000/']").first
                if link.count():
                    link.click()
                    page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)  # let Plotly finish drawing
            target = OUT / f"{name}.png"
            page.screenshot(path=str(target), full_page=full)
            print(f"{target} ({page.url})")
        browser.close()


if __name__ == "__main__":
    main()
