"""Three pages of the docs site as a reader meets them, without Quarto: `zegclip docs-check --html` runs nbdev's docs
pre-processing on three notebooks and writes each page as HTML (nbconvert); headless Chromium (Debian's `chromium`,
driven by Playwright; no browser download) opens each page, which must show its title, a figure that loaded and a
table. `.ci/run` installs chromium; without it this test is skipped."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Notebooks whose pages hold a figure (a saved plot) and a table (markdown prose or an output)
NOTEBOOKS = ['02_miniclip.ipynb', '08_data.ipynb', '12_speed.ipynb']
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason="Debian's chromium is not installed (`apt-get install -y chromium`; .ci/run does it)")

def _title(nb: str) -> str:
    "The page title nbdev takes from the notebook's first `# Title` markdown cell."
    cells = json.loads((ROOT/'nbs'/nb).read_text())['cells']
    src = next(''.join(c['source']) for c in cells if c['cell_type'] == 'markdown')
    return src.splitlines()[0].removeprefix('# ').strip()

@pytest.fixture(scope='module')
def pages(tmp_path_factory):
    "The three pages written by `zegclip docs-check --html` from this checkout."
    out = tmp_path_factory.mktemp('pages')
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, '-m', 'zegclip.cli', 'docs-check', '--html', str(out),
                        '--path', *[f'nbs/{nb}' for nb in NOTEBOOKS]], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out

@pytest.mark.parametrize('nb', NOTEBOOKS)
def test_page_in_chromium(pages, nb):
    playwright = pytest.importorskip('playwright.sync_api', reason='pip install playwright (in the dev extras)')
    html = pages/(nb.split('_', 1)[1].replace('.ipynb', '.html'))  # nbdev drops the number: 08_data.ipynb -> data.html
    assert html.is_file(), sorted(p.name for p in pages.iterdir())
    title = _title(nb)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={'width': 1200, 'height': 900})
            # The page is read offline: nbconvert's CDN scripts (require.js, MathJax) are refused, not waited for
            page.route('http*://**', lambda route: route.abort())
            page.goto(html.as_uri(), wait_until='load', timeout=60_000)
            assert page.title() == title
            h1 = page.locator('h1').first
            assert h1.is_visible() and h1.inner_text().strip().rstrip('¶').strip() == title
            # A figure: a saved plot in an output area, decoded by the browser (naturalWidth > 0) and on screen
            figs = page.locator('.jp-OutputArea-output img')
            assert figs.count() >= 1, 'no figure on the page'
            assert page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
                                 ".some(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0)")
            # A table with a header and at least one row, shown
            table = page.locator('table:has(th):has(td)').first
            assert table.count() == 1 and table.is_visible(), 'no table on the page'
            page.screenshot(path=str(pages/f'{html.stem}.png'), full_page=False)
        finally:
            browser.close()
