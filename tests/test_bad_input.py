"""The bad-input suite: every mistake a user can make with an image, a class list, a checkpoint, a dataset folder, a
training flag or an option ends with exit code 2 and one line that names the file or value and says what to do; never
a traceback. A few inputs are not mistakes but deserve a word (a single class: every pixel gets it), and exit 0 with a
warning. The table `CASES` is the suite: (family, case, arguments, what the message must say, setup). Commands run in
process through `zegclip.cli.main`; `test_subprocess` runs a few as a user does, in a fresh Python."""
import errno, math, os, random, shutil, struct, subprocess, sys, zlib
from collections import Counter
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from zegclip.cli import main

# ---------------------------------------------------------------------------------------------------------------- fixtures
def _png_with_size(path, w, h):
    "A PNG whose header claims w x h pixels (PIL refuses to write a zero-sized one)."
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    Path(path).write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                           + chunk(b'IDAT', zlib.compress(b'')) + chunk(b'IEND', b''))

@pytest.fixture(scope='module')
def d(tmp_path_factory):
    "A folder of bad (and good) inputs, a tiny training checkpoint and a tiny VOC-layout dataset with one flaw per copy."
    from zegclip.data import write_fixture
    from zegclip.model import preset, tiny
    from zegclip.shapes import ShapesDataset
    from zegclip.train import TrainConfig, train
    d = tmp_path_factory.mktemp('bad')
    img = ShapesDataset('test', n=1).load(0)[0]
    Image.fromarray(img).save(d/'shapes.png')
    (d/'notes.png').write_text('not an image')
    (d/'empty.png').write_bytes(b'')
    raw = (d/'shapes.png').read_bytes(); (d/'truncated.png').write_bytes(raw[:len(raw) // 2])
    _png_with_size(d/'zero.png', 0, 0)
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(d/'big.png')  # 1,600 px: a bomb once the limit is 500
    Image.fromarray(np.full((8, 8), np.nan, np.float32)).save(d/'nan.tiff')
    Image.fromarray(np.full((8, 8), np.inf, np.float32)).save(d/'inf.tiff')
    (d/'folder.png').mkdir()
    # checkpoints
    train(tiny(preset('shapes-zegclip')), TrainConfig(iters=1, batch_size=2, eval_n=2, num_workers=0), d/'run', progress=False)
    raw = (d/'run'/'last.pt').read_bytes()
    (d/'trunc.pt').write_bytes(raw[:len(raw) // 2]); (d/'random.pt').write_bytes(random.Random(0).randbytes(4096))  # seeded: the message depends on the bytes; (d/'empty.pt').write_bytes(b'')
    from safetensors.torch import save_file
    save_file({'w': torch.zeros(2)}, str(d/'plain.safetensors'))
    torch.save({'weights': torch.zeros(2)}, d/'other.pt')
    torch.save({'state_dict': {'backbone.w': torch.zeros(2)}}, d/'official.pth')
    (d/'ckdir.pt').mkdir()
    # data folders: a good data/ copy without MiniCLIP, and one with another MiniCLIP under the shipped name
    from zegclip.clip import data_dir
    (d/'trunc.safetensors').write_bytes((data_dir() / 'zegclip_shapes.safetensors').read_bytes()[:1000])  # a cut download
    (d/'nominiclip').mkdir(); shutil.copy(data_dir()/'zegclip_shapes.safetensors', d/'nominiclip')
    (d/'otherminiclip').mkdir(); shutil.copy(data_dir()/'zegclip_shapes.safetensors', d/'otherminiclip')
    shutil.copy(data_dir()/'miniclip_shapes_tok.safetensors', d/'otherminiclip'/'miniclip_shapes.safetensors')
    (d/'nodata').mkdir()
    # datasets: one flaw per copy of a tiny VOC-layout folder
    for k in ('voc', 'size', 'missing', 'values'): write_fixture('voc', d/k)
    lbl = d/'size'/'SegmentationClass'/'2008_val000.png'
    Image.open(lbl).resize((30, 20)).save(lbl)
    (d/'missing'/'JPEGImages'/'2008_val001.jpg').unlink()
    lbl = d/'values'/'SegmentationClass'/'2008_val000.png'
    a = np.array(Image.open(lbl)); a[:2, :2] = 77; a[2:4, :2] = 200
    im = Image.fromarray(a, 'P'); im.putpalette(Image.open(d/'voc'/'SegmentationClass'/'2008_val000.png').getpalette()); im.save(lbl)
    (d/'voc_ck').mkdir()
    train(tiny(preset('voc-zegclip')), TrainConfig(iters=1, batch_size=2, eval_n=1, num_workers=0), d/'voc_run', root=d/'voc',
          progress=False)
    return d

# setups: what a case changes around the command (in process, undone after it)
def bomb(mp, d): mp.setattr(Image, 'MAX_IMAGE_PIXELS', 500)  # PIL refuses images over twice this many pixels
def nominiclip(mp, d): mp.setenv('ZEGCLIP_DATA', str(d/'nominiclip'))
def otherminiclip(mp, d): mp.setenv('ZEGCLIP_DATA', str(d/'otherminiclip'))
def nodata(mp, d): mp.setenv('ZEGCLIP_DATA', str(d/'nodata'))
def offline(mp, d): mp.setenv('ZEGCLIP_OFFLINE', '1')
def full_disk(mp, d):
    "The second checkpoint write runs out of space half-way."
    import zegclip.core
    real, calls = torch.save, []
    def save(obj, f, *a, **k):
        calls.append(f)
        if len(calls) < 2: return real(obj, f, *a, **k)
        Path(f).write_bytes(b'half'); raise OSError(errno.ENOSPC, 'No space left on device')
    mp.setattr(zegclip.core.torch, 'save', save)

P = ['predict', '{d}/shapes.png', '--classes', 'heart,circle']  # a good predict command, to add one bad option to
T = ['train', '--config', 'shapes-zegclip', '--tiny', '--out', '{d}/t', '--num-workers', '0', '--no-progress']
E = ['evaluate', '--config', 'shapes-zegclip', '--tiny', '--checkpoint', '{d}/run/last.pt', '--no-progress']
V = ['train', '--config', 'voc-zegclip', '--tiny', '--iters', '1', '--batch-size', '2', '--eval-n', '2', '--num-workers', '0',
     '--no-progress', '--out', '{d}/vout', '--root']

CASES = [
    # images
    ('images', 'missing file', ['predict', '{d}/nowhere.png', '--classes', 'heart'], ['nowhere.png', 'give an image file']),
    ('images', 'a folder', ['predict', '{d}/folder.png', '--classes', 'heart'], ['folder.png', 'give an image file']),
    ('images', 'text file', ['predict', '{d}/notes.png', '--classes', 'heart'], ['notes.png', 'cannot read', 'PNG, JPEG']),
    ('images', 'empty file', ['predict', '{d}/empty.png', '--classes', 'heart'], ['empty.png', 'empty']),
    ('images', 'truncated file', ['predict', '{d}/truncated.png', '--classes', 'heart'], ['truncated.png', 'truncated']),
    ('images', 'zero-sized image', ['predict', '{d}/zero.png', '--classes', 'heart'], ['zero.png']),
    ('images', 'decompression bomb', ['predict', '{d}/big.png', '--classes', 'heart'], ['big.png', 'pixels'], bomb),
    ('images', 'NaN pixels', ['predict', '{d}/nan.tiff', '--classes', 'heart'], ['nan.tiff', 'not finite']),
    ('images', 'infinite pixels', ['predict', '{d}/inf.tiff', '--classes', 'heart'], ['inf.tiff', 'not finite']),
    ('images', 'shapes: no index', ['predict', 'shapes:test', '--classes', 'heart'], ["'shapes:test'", 'shapes:SPLIT:INDEX']),
    ('images', 'shapes: negative index', ['predict', 'shapes:test:-1', '--classes', 'heart'], ['shapes:SPLIT:INDEX']),
    ('images', 'shapes: unknown split', ['predict', 'shapes:nosuch:1', '--classes', 'heart'], ["'nosuch'", 'train']),
    # class lists
    ('class lists', 'no names', [*P[:2], '--classes', ' , '], ['no class names', 'separated by commas']),
    ('class lists', 'duplicates', [*P[:2], '--classes', 'heart,star,heart'], ['duplicate', 'heart']),
    ('class lists', 'duplicates up to case', [*P[:2], '--classes', 'Heart, heart'], ['duplicate', 'heart']),
    ('class lists', 'text-embed: no names', ['text-embed', '--classes', ' , ', '--model', 'TinyCLIP', '--out', '{d}/e.safetensors'],
     ['blank']),
    ('class lists', 'same text once tokenised', [*P[:2], '--classes', 'a ' * 40 + 'heart,' + 'a ' * 40 + 'star'],
     ['tokenise to the same', 'shorten']),
    ('class lists', 'one class', [*P[:2], '--classes', 'heart', '--none-below', '0'], ['one class', 'every pixel'], None, 0),
    ('class lists', 'text-embed: duplicates', ['text-embed', '--classes', 'cat,cat', '--model', 'TinyCLIP', '--out', '{d}/e.safetensors'],
     ['duplicate', 'cat']),
    # checkpoints
    ('checkpoints', 'missing', [*P, '--checkpoint', '{d}/nowhere.pt'], ['nowhere.pt', 'no checkpoint']),
    ('checkpoints', 'a folder', [*P, '--checkpoint', '{d}/ckdir.pt'], ['ckdir.pt', 'no checkpoint']),
    ('checkpoints', 'truncated', [*P, '--checkpoint', '{d}/trunc.pt'], ['trunc.pt', 'truncated']),
    ('checkpoints', 'truncated .safetensors', [*P, '--checkpoint', '{d}/trunc.safetensors'], ['trunc.safetensors', 'truncated']),
    ('checkpoints', 'random bytes', [*P, '--checkpoint', '{d}/random.pt'], ['random.pt', 'not a PyTorch checkpoint']),
    ('checkpoints', 'empty', [*P, '--checkpoint', '{d}/empty.pt'], ['empty.pt', 'empty']),
    ('checkpoints', 'safetensors without config', [*P, '--checkpoint', '{d}/plain.safetensors'], ['plain.safetensors', 'config']),
    ('checkpoints', 'foreign .pt without --config', [*P, '--checkpoint', '{d}/other.pt'], ['other.pt', '--config voc-zegclip']),
    ('checkpoints', 'foreign .pt with --config', [*P, '--checkpoint', '{d}/other.pt', '--config', 'voc-zegclip'],
     ['other.pt', 'state dict']),
    ('checkpoints', 'train checkpoint, wrong --config', [*P, '--checkpoint', '{d}/run/last.pt', '--config', 'shapes-zegclip'],
     ['last.pt', 'leave out --config']),
    ('checkpoints', 'tiny checkpoint without --tiny', ['evaluate', '--config', 'shapes-zegclip', '--checkpoint', '{d}/run/last.pt'],
     ['last.pt', '--tiny']),
    ('checkpoints', 'evaluate: truncated', [*E[:4], '--checkpoint', '{d}/trunc.pt'], ['trunc.pt', 'truncated']),
    ('checkpoints', 'evaluate: missing', [*E[:4], '--checkpoint', '{d}/nowhere.pt'], ['nowhere.pt']),
    ('checkpoints', 'evaluate: foreign', [*E[:4], '--checkpoint', '{d}/other.pt'], ['other.pt', 'not an official', 'zegclip train']),
    ('checkpoints', 'shipped model, MiniCLIP missing', P, ['miniclip_shapes.safetensors', 'missing'], nominiclip),
    ('checkpoints', 'shipped model, another MiniCLIP', P, ['miniclip_shapes.safetensors', 'other'], otherminiclip),
    ('checkpoints', 'shipped model missing', P, ['zegclip_shapes.safetensors', 'not found', 'git checkout'], nodata),
    ('checkpoints', 'official: CLIP weights missing', [*P, '--checkpoint', '{d}/official.pth', '--config', 'voc-zegclip', '--clip',
     '{d}/nowhere.pt'], ['nowhere.pt']),
    # datasets
    ('datasets', 'label size differs from image', [*V, '{d}/size'], ['2008_val000.png', '30x20', '80x60']),
    ('datasets', 'list names a missing file', [*V, '{d}/missing'], ['2008_val001.jpg', 'missing']),
    ('datasets', 'label values out of range', [*V, '{d}/values'], ['2008_val000.png', '77', '200']),
    ('datasets', 'not a dataset folder', [*V, '{d}/nowhere'], ['nowhere', 'PASCAL VOC']),
    ('datasets', 'root is a file', [*V, '{d}/shapes.png'], ['shapes.png', 'PASCAL VOC']),
    ('datasets', 'no --root', V[:-1], ['--root', 'voc-zegclip']),
    ('datasets', 'data-check: not a folder', ['data-check', '--dataset', 'voc', '--root', '{d}/nowhere'], ['nowhere', 'PASCAL VOC']),
    ('datasets', 'data-check: missing file', ['data-check', '--dataset', 'voc', '--root', '{d}/missing'], ['2008_val001.jpg', 'missing']),
    ('datasets', 'evaluate: label size', ['evaluate', '--config', 'voc-zegclip', '--tiny', '--checkpoint', '{d}/voc_run/last.pt',
     '--root', '{d}/size', '--no-progress'], ['2008_val000.png', '30x20']),
    # training flags
    *[('training', f'--{k} {v}', [*T, f'--{k}', v], [f'--{k}', v if v != 'nan' else 'nan']) for k, v in
      [('iters', '0'), ('iters', '-5'), ('batch-size', '0'), ('batch-size', '-2'), ('accum', '0'), ('accum', '-1'),
       ('lr', 'nan'), ('lr', '-1'), ('lr', '0'), ('eval-n', '0'), ('ckpt-every', '0'), ('log-every', '0'), ('warmup', '-1'),
       ('self-training-start', '1.5'), ('encoder-lr-mult', 'inf'), ('num-workers', '-1')]],
    ('training', 'batch not a multiple of accum', [*T, '--batch-size', '5', '--accum', '2'], ['batch_size 5', 'accum 2']),
    ('training', '--amp fp16', [*T, '--amp', 'fp16'], ['fp16', "'bf16' or 'none'"]),
    ('training', '--iters x', [*T, '--iters', 'x'], ["'x'", '--iters']),
    ('training', 'out is a file', ['train', '--config', 'shapes-zegclip', '--tiny', '--out', '{d}/shapes.png/run'],
     ['shapes.png', '--out']),
    ('training', 'existing run without --resume', ['train', '--config', 'shapes-zegclip', '--tiny', '--out', '{d}/run'],
     ['last.pt', '--resume']),
    ('training', 'MiniCLIP weights missing', ['train', '--config', 'shapes-zegclip', '--out', '{d}/m', '--iters', '1'],
     ['miniclip_shapes.safetensors', 'missing'], nominiclip),
    ('training', 'full disk during a checkpoint write', [*T[:5], '{d}/disk', '--iters', '2', '--batch-size', '2', '--ckpt-every', '1',
     '--eval-n', '1', '--num-workers', '0', '--no-progress'], ['last.pt', 'No space left', 'intact'], full_disk),
    ('training', 'ablate --iters 0', ['ablate', '--iters', '0', '--out', '{d}/abl'], ['iters', '0']),
    ('training', 'ablate --set without =', ['ablate', '--set', 'loss', '--out', '{d}/abl'], ['loss', 'FIELD=VALUE']),
    ('training', 'ablate --set unknown field', ['ablate', '--set', 'nosuch=1', '--out', '{d}/abl'], ['nosuch', 'FIELD=VALUE']),
    ('training', 'ablate --base unknown', ['ablate', '--base', 'nosuch', '--out', '{d}/abl'], ['nosuch', 'shapes-zegclip']),
    ('training', 'ablate --table unknown', ['ablate', '--table', 'table9'], ['table9', 'table5']),
    ('training', 'pretrain --steps 0', ['pretrain-miniclip', '--steps', '0', '--out', '{d}/pm'], ['steps', '0']),
    ('training', 'pretrain --lr nan', ['pretrain-miniclip', '--lr', 'nan', '--out', '{d}/pm'], ['lr', 'nan']),
    ('training', 'pretrain --pool max', ['pretrain-miniclip', '--pool', 'max', '--out', '{d}/pm'], ["'max'", 'tok']),
    # options
    ('options', '--none-below -0.1', [*P, '--none-below', '-0.1'], ['--none-below', '-0.1', '[0, 1]']),
    ('options', '--none-below 1.5', [*P, '--none-below', '1.5'], ['--none-below', '1.5', '[0, 1]']),
    ('options', '--none-below nan', [*P, '--none-below', 'nan'], ['--none-below', 'nan', '[0, 1]']),
    ('options', '--none-below x', [*P, '--none-below', 'x'], ["'x'", '--none-below']),
    ('options', '--out .gif', [*P, '--out', '{d}/o.gif'], ['o.gif', '.png']),
    ('options', '--out .txt', [*P, '--out', '{d}/o.txt'], ['o.txt', '.png']),
    ('options', '--out without extension', [*P, '--out', '{d}/o'], ["'{d}/o'", '.png']),
    ('options', '--out in a file', [*P, '--out', '{d}/shapes.png/o.png'], ['shapes.png', '--out']),
    ('options', '--mode unknown', [*P, '--mode', 'tiles'], ["'tiles'", 'slide']),
    ('options', '--config unknown', [*P, '--config', 'voc-zeg'], ["'voc-zeg'", 'voc-zegclip']),
    ('options', 'predict without --classes', P[:2], ['--classes']),
    ('options', 'evaluate --limit 0', [*E, '--limit', '0'], ['--limit', '0']),
    ('options', 'evaluate --batch-size 0', [*E, '--batch-size', '0'], ['--batch-size', '0']),
    ('options', 'bench --batch 0', ['bench', '--batch', '0'], ['--batch', '0']),
    ('options', 'bench --preset unknown', ['bench', '--preset', 'nosuch'], ["'nosuch'", 'voc-zegclip']),
    ('options', 'bench --device tpu', ['bench', '--device', 'tpu'], ["'tpu'", 'cpu or cuda']),
    ('options', 'unknown command', ['segment'], ["'segment'"]),
    ('options', 'data-check --limit 0', ['data-check', '--dataset', 'voc', '--root', '{d}/voc', '--limit', '0'], ['--limit', '0']),
]
CASES = [c + (None,) * (5 - len(c)) + (2,) * (len(c) < 6) if len(c) < 6 else c for c in CASES]

def run(argv, capsys):
    "main(argv) in this process: (exit code, stdout, stderr); argparse's exit is an exit code too."
    try: rc = main(argv)
    except SystemExit as e: rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err

@pytest.mark.parametrize('family, case, argv, says, setup, rc', CASES, ids=[f'{c[0]}: {c[1]}' for c in CASES])
def test_bad_input(d, family, case, argv, says, setup, rc, capsys, monkeypatch):
    if setup: setup(monkeypatch, d)
    argv = [a.format(d=d) for a in argv]
    got, out, err = run(argv, capsys)
    says = [s.format(d=d) for s in says]
    lines = err.strip().splitlines()
    assert got == rc, (got, err[-2000:])
    if rc == 2:
        assert lines and 'error:' in lines[-1], err
        body = lines if not lines[0].startswith('usage:') else lines[-1:]  # argparse prints its usage above the line
        assert len(body) == 1, err  # one line
        line = body[0]
    else: line = next((l for l in lines if 'warning:' in l), err)
    for s in says: assert s in line, (s, line)

def test_case_count():
    "At least 60 cases, in every family the suite promises."
    n = Counter(c[0] for c in CASES)
    assert sum(n.values()) >= 60 and set(n) == {'images', 'class lists', 'checkpoints', 'datasets', 'training', 'options'}, n

def test_full_disk_keeps_previous_checkpoint(d, capsys, monkeypatch):
    "After the failed write of the 2nd checkpoint: no .tmp, and last.pt is the 1st, intact."
    full_disk(monkeypatch, d)
    out = d/'disk2'
    rc, _, err = run([*T[:5], str(out), '--iters', '2', '--batch-size', '2', '--ckpt-every', '1', '--eval-n', '1', '--num-workers', '0',
                      '--no-progress'], capsys)
    assert rc == 2 and 'No space left' in err
    assert sorted(p.name for p in out.iterdir() if p.suffix in ('.pt', '.tmp')) == ['last.pt']
    from zegclip.core import read_checkpoint
    assert read_checkpoint(out/'last.pt')['iter'] == 1

def test_exif_rotation(tmp_path):
    "A photo whose EXIF says 'rotate 90°' is read upright, as image viewers show it."
    from zegclip.demo import read_image
    a = np.zeros((20, 40, 3), np.uint8); a[:, :20] = 255  # left half white, stored landscape
    im = Image.fromarray(a); exif = im.getexif(); exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    im.save(tmp_path/'photo.jpg', exif=exif)
    img, _ = read_image(str(tmp_path/'photo.jpg'))
    assert img.shape == (40, 20, 3) and img[:20].mean() > 200 and img[20:].mean() < 50  # the white half is now on top

def test_non_finite_array():
    "The Python API refuses arrays with NaN or infinity instead of segmenting garbage."
    from zegclip.demo import read_image
    for bad in (np.nan, np.inf):
        a = np.zeros((8, 8, 3), np.float32); a[0, 0, 0] = bad
        with pytest.raises(ValueError, match='not finite'): read_image(a)

@pytest.mark.parametrize('argv, says', [
    (['predict', '{d}/notes.png', '--classes', 'heart'], 'cannot read'),
    (['predict', '{d}/shapes.png', '--classes', 'heart,circle', '--checkpoint', '{d}/trunc.pt'], 'truncated'),
    (['train', '--config', 'shapes-zegclip', '--tiny', '--iters', '0', '--out', '{d}/sub'], '--iters'),
])
def test_subprocess(d, argv, says):
    "As a user runs it: a fresh Python, exit code 2, the message on stderr, no traceback."
    import zegclip
    env = {**os.environ, 'OMP_NUM_THREADS': '1',
           'PYTHONPATH': os.pathsep.join([str(Path(zegclip.__file__).parent.parent), os.environ.get('PYTHONPATH', '')])}
    r = subprocess.run([sys.executable, '-m', 'zegclip.cli', *[a.format(d=d) for a in argv]], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and says in r.stderr and 'Traceback' not in r.stderr and r.stderr.count('\n') == 1, r.stderr
