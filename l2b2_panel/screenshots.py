"""``python -m l2b2_panel.screenshots [--out docs/screenshots]``: the pictures of both screens in the docs.

Taken from the real simulated stack (start it first with ``scripts/run-sim``): a scripted German
visitor asks for a new passport and is escorted while the staff panel is photographed (German and
Turkish, landscape 1280x800 and portrait 800x1280); then the visitor screen draws a real waiting
number from the embedded appointment system, in German and in Turkish, at both sizes. Nothing on
the pictures is staged. Files: ``panel_{de,tr}_{landscape,portrait}.png`` and
``visitor_{de,tr}_{landscape,portrait}.png``.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import threading
import time

from l2b2_panel.bench import CHROMIUM, CHROMIUM_ARGS

SIZES = {'landscape': {'width': 1280, 'height': 800}, 'portrait': {'width': 800, 'height': 1280}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path('docs/screenshots'))
    parser.add_argument('--url', default='http://127.0.0.1:8080/', help='the running panel')
    parser.add_argument('--user', default='staff')
    parser.add_argument('--password', default='l2b2-demo', help='the simulation demo credential')
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from l2b2_bringup.scenario import load_scenario
    from l2b2_bringup.scenario_runner import ScenarioRunner
    from l2b2_bringup.sim_control import SimControl
    from l2b2_common.config import REPO_ROOT

    runner = ScenarioRunner()
    runner.sim_control = SimControl(runner.node)
    missing = runner.wait_ready(60.0)
    if missing:
        raise SystemExit(f'no running stack: {missing} (start it with scripts/run-sim)')
    visit = threading.Thread(target=runner.run, args=(load_scenario(REPO_ROOT / 'scenarios/de_passport_escort.yaml'),))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # bypass_csp only lets Playwright poll its waits inside the page; the pages look the same.
            page = browser.new_context(viewport=SIZES['landscape'], bypass_csp=True).new_page()
            page.goto(args.url)
            page.fill('#login-user', args.user)
            page.fill('#login-password', args.password)
            page.click('#login-submit')
            page.wait_for_selector('#app:not([hidden])')
            visit.start()
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:  # mid-escort: the robot has driven a few metres
                moving = runner.moving.items
                if moving and time.monotonic() - moving[0][0] > 8.0:
                    break
                time.sleep(0.2)
            names = []
            for lang in ('de', 'tr'):
                page.select_option('#ui-lang', lang)
                page.wait_for_selector(f'html[lang="{lang}"]', state='attached')
                for size, viewport in SIZES.items():
                    page.set_viewport_size(viewport)
                    page.wait_for_function('document.getElementById("map").width === '
                                           'Math.round(document.getElementById("map").getBoundingClientRect().width)')
                    names.append(f'panel_{lang}_{size}.png')
                    page.screenshot(path=str(args.out / names[-1]))
            visit.join(timeout=300)
            for lang in ('de', 'tr'):
                runner.wait_idle_robot()  # the escort has brought the robot home; start a fresh visit
                v = browser.new_context(viewport=SIZES['landscape'], bypass_csp=True).new_page()
                v.goto(args.url.rstrip('/') + '/visitor')
                v.click(f'#vlang-{lang}')
                v.click('#v-ticket')
                v.click('#ticket-targets button >> nth=1')
                v.wait_for_selector('#number:not([hidden])', timeout=20000)
                # Subtitles are the sentence spoken now: wait until the robot has said the ticket's sentences.
                v.wait_for_function('window.l2b2.state && !window.l2b2.state.speaking && '
                                    "document.getElementById('sub-robot').textContent !== ''", timeout=60000)
                time.sleep(1.0)  # let the subtitles settle
                for size, viewport in SIZES.items():
                    v.set_viewport_size(viewport)
                    names.append(f'visitor_{lang}_{size}.png')
                    v.screenshot(path=str(args.out / names[-1]))
                v.context.close()
            browser.close()
    finally:
        runner.close()
    print(f'screenshots in {args.out}/: {" ".join(names)}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
