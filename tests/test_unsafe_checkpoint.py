"""No file can run code when zegclip loads it. A pickle whose payload would create a marker file is handed to every
loading route (the CLI's `predict --checkpoint`, `predict --config voc-zegclip --clip FILE`, and the Python calls):
each refuses it with a message that says how to convert a trusted file, and the marker never appears."""
import builtins, os, pickle, subprocess, sys
from pathlib import Path
import pytest
import torch

MARKER = 'RAN_CODE'

class Payload:
    "Unpickling this calls exec, which creates the marker file."
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (builtins.exec, (f"open({self.path!r}, 'w').close()",))

@pytest.fixture
def evil(tmp_path):
    "Two payload files (torch's zip format and a plain pickle), a harmless official-looking .pth, and the marker path."
    marker = tmp_path/MARKER
    torch.save({'state_dict': {'w': torch.zeros(2)}, 'meta': Payload(marker)}, tmp_path/'evil.pth')
    with open(tmp_path/'evil_plain.pth', 'wb') as f: pickle.dump({'state_dict': {}, 'meta': Payload(marker)}, f, protocol=2)
    torch.save({'state_dict': {'backbone.w': torch.zeros(2)}}, tmp_path/'official.pth')  # passes the official-checkpoint check
    # the payload works: plain pickle runs it (in a child process, so that this test process stays clean)
    subprocess.run([sys.executable, '-c', f"import pickle; pickle.load(open({str(tmp_path/'evil_plain.pth')!r}, 'rb'))"],
                   capture_output=True, cwd=tmp_path)
    assert marker.exists(), 'the payload should work when unpickled without an allow-list'
    marker.unlink()
    return tmp_path, marker

def zegclip(*args, cwd):
    import zegclip  # the child imports the same package as this process, whatever the working directory
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': os.pathsep.join([str(Path(zegclip.__file__).parent.parent),
                                                                              os.environ.get('PYTHONPATH', '')])}
    return subprocess.run([sys.executable, '-m', 'zegclip.cli', *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd)

@pytest.mark.parametrize('name', ['evil.pth', 'evil_plain.pth'])
@pytest.mark.parametrize('route', ['checkpoint', 'checkpoint+config', 'clip'])
def test_cli_refuses(evil, name, route):
    d, marker = evil
    args = {'checkpoint': ['--checkpoint', d/name],
            'checkpoint+config': ['--config', 'shapes-zegclip', '--checkpoint', d/name],
            'clip': ['--config', 'voc-zegclip', '--checkpoint', d/'official.pth', '--clip', d/name]}[route]
    r = zegclip('predict', 'shapes:test:0', '--classes', 'heart,circle', *args, cwd=d)
    assert r.returncode == 2, r.stderr
    assert 'Traceback' not in r.stderr and r.stderr.count('\n') == 1, r.stderr
    assert name in r.stderr and 'convert it once' in r.stderr, r.stderr
    assert not marker.exists()

@pytest.mark.parametrize('name', ['evil.pth', 'evil_plain.pth'])
def test_python_calls_refuse(evil, name):
    from zegclip.core import read_checkpoint
    from zegclip.clip import read_state_dict, load_clip
    from zegclip.model import ZegCLIP, preset, tiny, load_official_checkpoint
    from zegclip.demo import load_model
    from zegclip.train import load_checkpoint
    d, marker = evil
    f = d/name
    model = ZegCLIP(tiny(preset('voc-zegclip')))
    calls = [lambda: read_checkpoint(f), lambda: read_state_dict(f), lambda: load_clip('TinyCLIP', str(f)),
             lambda: load_official_checkpoint(model, f), lambda: load_model('voc-zegclip', f),
             lambda: load_model(None, f), lambda: load_checkpoint(f, model)]
    for call in calls:
        with pytest.raises(ValueError, match='convert it once'): call()
    assert not marker.exists()
