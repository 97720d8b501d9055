"`zegclip data-prepare` as a new user meets it: archives in the real formats over a local HTTP server, then the CLI."
import io, os, subprocess, sys, tarfile, zipfile
from pathlib import Path
import numpy as np
import pytest
from PIL import Image
from scipy.io import loadmat
import zegclip.prepare as zp
from zegclip.prepare import (ARCHIVES, COCO_DIR, CONTEXT_DIR, FIXTURE_IDS, VOC_DIR, Archive, FixtureServer, PrepareError,
                             data_prepare_cli, md5sum, prepare, write_fixture_archives)

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}

# mmseg's rules, written as its scripts write them (tools/convert_datasets/{voc_aug,coco_stuff,pascal_context}.py)
MMSEG_COCO = {**{c: t for t, c in enumerate(i for i in range(182) if i not in (11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90))}, 255: 255}
MMSEG_CONTEXT = np.sort(np.array([0, 2, 259, 260, 415, 324, 9, 258, 144, 18, 19, 22, 23, 397, 25, 284, 158, 159, 416, 33,
                                  162, 420, 454, 295, 296, 427, 44, 45, 46, 308, 59, 440, 445, 31, 232, 65, 354, 424, 68, 326,
                                  72, 458, 34, 207, 80, 355, 85, 347, 220, 349, 360, 98, 187, 104, 105, 366, 189, 368, 113, 115]))

def label(p): return np.array(Image.open(p))

def served(url, key, fx):
    "The archives of `key` as the local server offers them, with the fixture files' own md5 and size."
    return [Archive(a.name, url + a.name, md5sum(fx[a.name]), fx[a.name].stat().st_size) for a in ARCHIVES[key]]

def quiet(*a, **k): pass

@pytest.fixture(scope='module')
def voc_fx(tmp_path_factory):
    d = tmp_path_factory.mktemp('fx-voc'); write_fixture_archives('voc', d); return d

def check_voc_labels(root, fx_dir):
    "SBD labels pixel for pixel against voc_aug.py's rule; the lists against its set operations."
    voc = root / VOC_DIR
    with tarfile.open(fx_dir / 'benchmark.tgz') as t:
        mats = [m for m in t.getmembers() if m.name.endswith('.mat')]
        for m in mats:
            ref = loadmat(t.extractfile(m))['GTcls'][0]['Segmentation'][0].astype(np.uint8)
            assert np.array_equal(label(voc / 'SegmentationClassAug' / (Path(m.name).stem + '.png')), ref), m.name
    ids = FIXTURE_IDS
    full_aug = ids['sbd_train'] + ids['sbd_val']
    trainaug = set(ids['voc_train'] + full_aug) - set(ids['voc_val'])
    aug = set(full_aug) - set(ids['voc_train'] + ids['voc_val'])
    read = lambda f: (voc / 'ImageSets/Segmentation' / f).read_text().split()
    assert sorted(read('trainaug.txt')) == sorted(trainaug) and len(read('trainaug.txt')) == len(trainaug) == 6
    assert sorted(read('aug.txt')) == sorted(aug) and len(aug) == 3
    with tarfile.open(fx_dir / 'VOCtrainval_11-May-2012.tar') as t:  # VOC's own palette PNGs are copied as they are
        for i in ids['voc_train']:
            assert (voc / 'SegmentationClass' / f'{i}.png').read_bytes() == t.extractfile(f'VOCdevkit/VOC2012/SegmentationClass/{i}.png').read()

def test_voc_over_http_with_a_dropped_connection(tmp_path, voc_fx):
    "The VOC tar's connection drops after 2,000 bytes: the download resumes with a Range request and the job completes."
    with FixtureServer(voc_fx, drop={'/VOCtrainval_11-May-2012.tar': 2000}, max_seconds=120) as srv:
        rep = prepare('voc', tmp_path, archives=served(srv.url, 'voc', {a.name: voc_fx / a.name for a in ARCHIVES['voc']}),
                      progress=False, say=quiet)
    assert ('/VOCtrainval_11-May-2012.tar', 'bytes=2000-') in srv.log
    assert rep['problems'] == [] and {s: v['images'] for s, v in rep['splits'].items()} == {'train': 6, 'val': 2}
    check_voc_labels(tmp_path, voc_fx)
    assert not list(tmp_path.rglob('*.part')) and not list(tmp_path.rglob('*.tmp'))
    lines = []  # a second run: nothing downloaded, nothing converted
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / VOC_DIR / 'SegmentationClassAug').iterdir()}
    prepare('voc', tmp_path, archives=[Archive(a.name, 'http://127.0.0.1:9/' + a.name) for a in ARCHIVES['voc']], progress=False, say=lines.append)
    assert 'every step was done before' in lines[0]
    assert stamp == {p: p.stat().st_mtime_ns for p in (tmp_path / VOC_DIR / 'SegmentationClassAug').iterdir()}

def test_corrupted_download_is_named(tmp_path, voc_fx):
    "An archive whose md5 differs from the published one is deleted and named, with the URL to fetch by hand."
    fx = {a.name: voc_fx / a.name for a in ARCHIVES['voc']}
    with FixtureServer(voc_fx, max_seconds=60) as srv:
        arch = served(srv.url, 'voc', fx)
        arch[1] = Archive(arch[1].name, arch[1].url, '0' * 32, arch[1].size)
        with pytest.raises(PrepareError, match=r'benchmark.tgz is corrupted: md5 .* expected 0{32}') as e:
            prepare('voc', tmp_path, archives=arch, progress=False, say=quiet)
    assert arch[1].url in str(e.value)
    assert not (tmp_path / 'downloads' / 'benchmark.tgz').exists() and not (tmp_path / 'downloads' / 'benchmark.tgz.part').exists()
    assert (tmp_path / 'downloads' / 'VOCtrainval_11-May-2012.tar').exists()  # the good one is kept for the next run

def test_unreachable_server_names_url_and_destination(tmp_path):
    a = Archive('benchmark.tgz', 'http://127.0.0.1:9/benchmark.tgz')  # port 9: nothing listens
    with pytest.raises(PrepareError) as e: zp.download(a, tmp_path / 'benchmark.tgz', retries=1, wait=0, progress=False)
    assert f'fetch {a.url} by hand' in str(e.value) and str(tmp_path / 'benchmark.tgz') in str(e.value)

def run_cli(*argv):
    r = subprocess.run([sys.executable, '-m', 'zegclip.cli', *map(str, argv)], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300)
    return r.returncode, r.stdout, r.stderr

def test_from_folder_missing_corrupted_full_disk(tmp_path, voc_fx, monkeypatch, capsys):
    src = tmp_path / 'by-hand'; src.mkdir()
    (src / 'VOCtrainval_11-May-2012.tar').write_bytes((voc_fx / 'VOCtrainval_11-May-2012.tar').read_bytes())
    assert data_prepare_cli(['voc', '--root', str(tmp_path / 'd'), '--from', str(src), '--no-progress']) == 2
    err = capsys.readouterr().err
    assert f"fetch {ARCHIVES['voc'][1].url} and put it at {src / 'benchmark.tgz'}" in err
    tgz = (voc_fx / 'benchmark.tgz').read_bytes(); (src / 'benchmark.tgz').write_bytes(tgz[:len(tgz) // 2])
    assert data_prepare_cli(['voc', '--root', str(tmp_path / 'd'), '--from', str(src), '--no-progress']) == 2
    assert f"archive {src / 'benchmark.tgz'} is damaged or truncated" in capsys.readouterr().err
    monkeypatch.setattr(zp, 'free_bytes', lambda p: 50_000)
    assert data_prepare_cli(['voc', '--root', str(tmp_path / 'full'), '--from', str(voc_fx), '--no-progress']) == 2
    assert 'not enough free disk' in capsys.readouterr().err and not (tmp_path / 'full').exists()

def test_interrupted_conversion_leaves_no_half_label(tmp_path, voc_fx, monkeypatch):
    "A kill between writing a label and renaming it leaves only whole labels; the next run finishes the step."
    calls, replace = [], os.replace
    def dying_replace(a, b):
        if 'SegmentationClassAug' in str(b): calls.append(b)
        if len(calls) == 3: raise KeyboardInterrupt  # killed after writing the third SBD label, before renaming it
        replace(a, b)
    monkeypatch.setattr(zp.os, 'replace', dying_replace)
    with pytest.raises(KeyboardInterrupt): prepare('voc', tmp_path, src=voc_fx, progress=False, say=quiet)
    monkeypatch.setattr(zp.os, 'replace', replace)
    aug = tmp_path / VOC_DIR / 'SegmentationClassAug'
    written = list(aug.glob('*.png'))
    assert len(written) == 2 and len(list(aug.glob('*.tmp'))) == 1 and not (tmp_path / '.prepare/voc/sbd.done').exists()
    for p in written: label(p)  # every label there is a whole PNG
    prepare('voc', tmp_path, src=voc_fx, progress=False, say=quiet)
    check_voc_labels(tmp_path, voc_fx)
    assert not list(tmp_path.rglob('*.tmp'))

def test_coco_and_context_labels_follow_mmseg(tmp_path):
    for key in ('coco-stuff', 'context'):
        write_fixture_archives(key, tmp_path / key)
        assert prepare(key, tmp_path / 'data', src=tmp_path / key, progress=False, say=quiet)['problems'] == []
    with zipfile.ZipFile(tmp_path / 'coco-stuff' / 'stuffthingmaps_trainval2017.zip') as z:
        for n in z.namelist():
            mask = np.array(Image.open(io.BytesIO(z.read(n)))); ref = mask.copy()
            for c, t in MMSEG_COCO.items(): ref[mask == c] = t
            assert np.array_equal(label(tmp_path / 'data' / COCO_DIR / 'annotations' / n.replace('.png', '_labelTrainIds.png')), ref), n
    ctx = tmp_path / 'data' / CONTEXT_DIR
    with tarfile.open(tmp_path / 'context' / 'trainval.tar.gz') as t:
        for m in t.getmembers():
            lm = loadmat(t.extractfile(m))['LabelMap']
            only59 = np.where(np.isin(lm, MMSEG_CONTEXT), lm, 0)  # what the detail API gives: the 59 classes, else 0
            ref = np.arange(len(MMSEG_CONTEXT))[np.digitize(only59.ravel(), MMSEG_CONTEXT, right=True)].reshape(lm.shape)
            assert np.array_equal(label(ctx / 'SegmentationClassContext' / (Path(m.name).stem + '.png')), ref), m.name
    assert (ctx / 'ImageSets/SegmentationContext/train.txt').read_text().split() == ['2008_000002', '2008_000007', '2008_000009']

def test_cli_prepare_check_and_one_training_iteration(tmp_path, voc_fx):
    "`zegclip data-prepare voc --from`, then `zegclip data-check` passes and one tiny training iteration runs on the folder."
    rc, out, err = run_cli('data-prepare', 'voc', '--root', tmp_path / 'voc', '--from', voc_fx, '--no-progress')
    assert rc == 0, err[-2000:]
    assert 'trainaug.txt 6 ids (full dataset 10,582)' in out and 'full dataset    10,582' in out
    rc, out, err = run_cli('data-check', '--dataset', 'voc', '--root', tmp_path / 'voc')
    assert rc == 0 and 'no problems found' in out, out + err
    rc, out, err = run_cli('train', '--config', 'voc-zegclip', '--tiny', '--root', tmp_path / 'voc', '--iters', '1', '--batch-size', '2',
                           '--warmup', '1', '--eval-every', '0', '--eval-n', '2', '--workers', '0', '--no-progress', '--out', tmp_path / 'run')
    assert rc == 0, err[-3000:]
    assert (tmp_path / 'run' / 'last.pt').exists() and 'mIoU(U)' in out
    rc, out, err = run_cli('data-prepare', 'voc', '--root', tmp_path / 'voc', '--from', voc_fx, '--no-progress')
    assert rc == 0 and 'every step was done before' in out
