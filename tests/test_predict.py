"""`zegclip predict` as a subprocess: a good image writes the picture and prints the class shares; bad images, empty class
lists, unknown configs and missing checkpoints exit 2 with one line that names the problem and no traceback."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from PIL import Image
from zegclip.cli import main
from zegclip.clip import data_dir
from zegclip.shapes import ShapesDataset

def zegclip(*args, cwd=None):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, '-m', 'zegclip.cli', *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd)

@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('predict')
    Image.fromarray(ShapesDataset('test', n=4).load(3)[0]).save(d/'shapes.png')
    (d/'notes.png').write_text('not an image')
    return d

@pytest.mark.parametrize('args, says', [
    (['{d}/missing.png', '--classes', 'heart'], 'no image at'),
    (['{d}/notes.png', '--classes', 'heart'], 'cannot read'),
    (['{d}/shapes.png', '--classes', ' , '], 'no class names'),
    (['{d}/shapes.png', '--classes', 'heart', '--config', 'voc-zeg'], "unknown config 'voc-zeg'; choose one of: voc-zegclip"),
    (['{d}/shapes.png', '--classes', 'heart', '--config', 'voc-zegclip', '--checkpoint', '{d}/voc.pth'], 'no checkpoint at'),
    (['{d}/shapes.png', '--classes', 'heart', '--config', 'voc-zegclip'], 'give its checkpoint too'),
])
def test_predict_errors(files, args, says, capsys):
    "In process (fast): exit status 2 and one line on stderr."
    assert main(['predict', *[a.format(d=files) for a in args]]) == 2
    out, err = capsys.readouterr()
    assert out == '' and err.startswith('zegclip predict: error:') and says in err and err.count('\n') == 1, err

@pytest.mark.parametrize('args, says', [(['{d}/missing.png', '--classes', 'heart'], 'no image at'),
                                        (['{d}/shapes.png', '--classes', ' , '], 'no class names'),
                                        (['{d}/shapes.png', '--classes', 'heart', '--config', 'voc-zeg'], 'unknown config'),
                                        (['{d}/shapes.png'], 'the following arguments are required: --classes')])
def test_predict_errors_subprocess(files, args, says):
    "As a user runs it: status 2, the message, no traceback."
    r = zegclip('predict', *[a.format(d=files) for a in args])
    assert r.returncode == 2 and r.stdout == '' and says in r.stderr and 'Traceback' not in r.stderr, r.stderr

@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    "A `last.pt` of the tiny Shapes-world config after one step, as `zegclip train --tiny` writes it."
    from zegclip.model import preset, tiny
    from zegclip.train import TrainConfig, train
    out = tmp_path_factory.mktemp('run')
    train(tiny(preset('shapes-zegclip')), TrainConfig(iters=1, batch_size=2, eval_n=2, num_workers=0), out, progress=False)
    return out/'last.pt'

def test_predict_training_checkpoint(tmp_path, files, tiny_checkpoint):
    "A training checkpoint brings its own config; the shares are printed largest first and sum to 100%."
    r = zegclip('predict', files/'shapes.png', '--classes', 'heart,circle,star', '--checkpoint', tiny_checkpoint,
                '--out', tmp_path/'out.png', '--none-below', '0')  # every pixel a class (no 'none' row)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    rows = [l.split() for l in lines[:-1]]
    assert sorted(r[0] for r in rows) == ['circle', 'heart', 'star'], lines
    shares = [float(r[1].rstrip('%')) for r in rows]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(100, abs=0.2)
    assert dict((r[0], r[2]) for r in rows) == {'heart': 'unseen', 'circle': 'seen', 'star': 'seen'}
    assert lines[-1] == f'wrote {tmp_path/"out.png"}' and (tmp_path/'out.png').read_bytes().startswith(b'\x89PNG')

def test_predict_checkpoint_of_other_config(files, tiny_checkpoint, capsys):
    assert main(['predict', str(files/'shapes.png'), '--classes', 'heart', '--checkpoint', str(tiny_checkpoint),
                 '--config', 'shapes-zegclip']) == 2
    assert 'trained with another config than shapes-zegclip' in capsys.readouterr().err

@pytest.mark.skipif(not (data_dir()/'zegclip_shapes.safetensors').is_file(), reason='the shipped Shapes-world model is not in data/')
def test_predict_shipped_model(tmp_path, files):
    "The default model is the shipped one; --json gives {class: share}; a .jpg --out writes JPEG."
    r = zegclip('predict', files/'shapes.png', '--classes', 'heart,crescent,circle,square', '--out', tmp_path/'out.jpg', '--json')
    assert r.returncode == 0, r.stderr
    shares = json.loads(r.stdout)  # by default a Shapes-world model labels the background 'none'
    assert list(shares) == ['heart', 'crescent', 'circle', 'square', 'none'] and sum(shares.values()) == pytest.approx(1, abs=1e-3)
    assert (tmp_path/'out.jpg').read_bytes()[:2] == b'\xff\xd8'
