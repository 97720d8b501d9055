"The installed `zegclip` console command, run as a user would (things a notebook cannot check: the entry point)."
import json, shutil, subprocess, sys
from pathlib import Path

def _zegclip():
    p = Path(sys.executable).parent/'zegclip'
    return str(p) if p.exists() else shutil.which('zegclip')

def test_help_lists_commands():
    r = subprocess.run([_zegclip(), '--help'], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for cmd in ['info', 'text-embed', 'readme', 'test']: assert f'  {cmd} ' in r.stdout

def test_info_json():
    r = subprocess.run([_zegclip(), 'info', '--json'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {'zegclip', 'torch', 'open_clip', 'python', 'device', 'torch_threads', 'weights'} <= set(d)
    assert d['device'] in ('cpu', 'cuda')

def test_unknown_command_fails():
    r = subprocess.run([_zegclip(), 'no-such-command'], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and 'unknown command' in r.stderr
