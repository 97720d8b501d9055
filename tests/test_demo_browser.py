"""The demo notebook as a student meets it: JupyterLab on localhost, the notebook opened in headless Chromium (Debian's
`chromium`, driven by Playwright; no browser download), all cells run, class names typed into the widget, and the
segmentation image must change. `.ci/run` installs chromium; without it this test is skipped."""
import os, shutil, signal, socket, subprocess, sys, time, secrets, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = '13_demo.ipynb'
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason="Debian's chromium is not installed (`apt-get install -y chromium`; .ci/run does it)")

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait_up(url: str, proc, log: Path, timeout: float = 90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: pytest.fail(f'jupyter lab exited ({proc.returncode}):\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    pytest.fail(f'jupyter lab did not answer within {timeout} s:\n{log.read_text()[-3000:]}')

@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on 127.0.0.1 serving a copy of the demo notebook (so nothing in nbs/ is saved over); stopped after."
    shutil.copy(ROOT/'nbs'/NOTEBOOK, tmp_path/NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'JUPYTER_CONFIG_DIR': str(tmp_path/'.jupyter'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path/'.runtime'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp_path/'.workspaces'),
           'JUPYTERLAB_SETTINGS_DIR': str(tmp_path/'.settings'), 'IPYTHONDIR': str(tmp_path/'.ipython')}
    log = tmp_path/'lab.log'
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}', '--ServerApp.port_retries=0',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}', '--ServerApp.terminals_enabled=False',
           '--LabApp.expose_app_in_browser=True', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--LabApp.extension_manager=readonly'] + (['--allow-root'] if os.geteuid() == 0 else [])
    with open(log, 'w') as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True)
    try:
        base = f'http://127.0.0.1:{port}'
        _wait_up(f'{base}/api/status?token={token}', proc, log)
        yield base, token, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started: its own process group
            try: proc.wait(20)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(10)

# JavaScript conditions: the notebook panel in front and its kernel (through the app object JupyterLab exposes), the picture
_PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_DRAWN = "(document.querySelector('img.zegclip-segmentation') || {}).naturalWidth > 0"  # a picture is shown
_KERNEL = f"({_PANEL} && {_PANEL}.sessionContext && {_PANEL}.sessionContext.session && {_PANEL}.sessionContext.session.kernel)"

def test_demo_notebook_in_jupyterlab(lab):
    playwright = pytest.importorskip('playwright.sync_api', reason='pip install playwright (in the dev extras)')
    base, token, log = lab
    t0 = time.time()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            page.set_default_timeout(60_000)
            page.goto(f'{base}/lab/tree/{NOTEBOOK}?token={token}', wait_until='domcontentloaded')
            page.wait_for_function(f"() => {_KERNEL} && {_KERNEL}.status === 'idle'", timeout=120_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            seg = page.locator('img.zegclip-segmentation')
            try:  # the picture, or the demo's message that it has no model (then fail at once, with that message)
                page.wait_for_function(f"() => {_DRAWN} || [...document.querySelectorAll('.widget-html')]"
                                       ".some(e => e.innerText.includes('No model'))", timeout=180_000)
            except Exception: pass
            if not page.evaluate(f'() => {_DRAWN}'):
                errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
                msg = page.locator('.widget-html').all_inner_texts()
                pytest.fail(f'no segmentation image after running all cells; widget messages {msg}; errors {errors[-3:]}; '
                            f'server log:\n{log.read_text()[-2000:]}')
            seg.scroll_into_view_if_needed()
            before = seg.get_attribute('src')
            box = page.locator('.zegclip-classes input')
            box.fill('heart, star, circle')
            box.press('Enter')  # the box updates on Enter, as a student would submit it
            page.wait_for_function("src => document.querySelector('img.zegclip-segmentation').src !== src", arg=before,
                                   timeout=60_000)
            page.wait_for_function(f'() => {_DRAWN}')
            message = page.locator('.widget-html').filter(has_text='star').first.inner_text()
            assert 'heart' in message and 'unseen' in message, message
        finally: browser.close()
    print(f'browser test took {time.time() - t0:.0f} s')
