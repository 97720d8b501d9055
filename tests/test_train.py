"`zegclip train` as separate processes (things a notebook cannot check): torchrun with 2 processes, and a SIGKILL mid-run."
import os, signal, subprocess, sys, time
from pathlib import Path
import torch

TINY = ['--config', 'shapes-zegclip', '--tiny', '--batch-size', '4', '--warmup', '1', '--eval-every', '0', '--eval-n', '4',
        '--workers', '0', '--no-progress']
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}

def _train(out, *args, nproc=1, timeout=240):
    launcher = [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}'] if nproc > 1 else [sys.executable]
    r = subprocess.run(launcher + ['-m', 'zegclip.cli', 'train', *TINY, '--out', str(out), *args],
                       capture_output=True, text=True, env=ENV, timeout=timeout)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r

def _ckpt(out): return torch.load(Path(out) / 'last.pt', map_location='cpu', weights_only=True)

def _max_diff(a, b):
    assert set(a) == set(b)
    return max((a[k] - b[k]).abs().max().item() for k in a)

def test_two_processes_match_one(tmp_path):
    "2 processes x micro-batch 2 (gloo) == 1 process x 2 accumulation steps of 2: same samples, crops, dropout masks, loss."
    _train(tmp_path / 'two', '--iters', '4', nproc=2)
    _train(tmp_path / 'one', '--iters', '4', '--accum', '2')
    two, one = _ckpt(tmp_path / 'two'), _ckpt(tmp_path / 'one')
    assert two['iter'] == one['iter'] == 4
    assert _max_diff(two['model'], one['model']) < 1e-5
    assert _max_diff(two['model'], _ckpt_init(tmp_path)) > 1e-4  # the weights did move

def _ckpt_init(tmp_path):
    "Trainable weights of the same model before training."
    from zegclip.model import preset, tiny
    from zegclip.train import build_model, trainable_state
    return trainable_state(build_model(tiny(preset('shapes-zegclip')), 0))

def test_sigkill_and_resume(tmp_path):
    "A run killed with SIGKILL and continued with --resume ends with the weights of an uninterrupted run."
    args = ['--iters', '40', '--ckpt-every', '5', '--log-every', '1']
    _train(tmp_path / 'full', *args)
    cmd = [sys.executable, '-m', 'zegclip.cli', 'train', *TINY, '--out', str(tmp_path / 'killed'), *args]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    log, t0 = tmp_path / 'killed' / 'log.csv', time.time()
    while time.time() - t0 < 180 and p.poll() is None:  # kill a few iterations after the first checkpoint
        if log.exists() and len(log.read_text().splitlines()) > 8: break
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    killed_at = _ckpt(tmp_path / 'killed')['iter']
    assert 5 <= killed_at < 40, killed_at
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=60)  # without --resume: refused
    assert r.returncode == 2 and 'pass --resume' in r.stderr
    _train(tmp_path / 'killed', *args, '--resume')
    full, resumed = _ckpt(tmp_path / 'full'), _ckpt(tmp_path / 'killed')
    assert resumed['iter'] == 40
    assert _max_diff(full['model'], resumed['model']) == 0
    rows = (tmp_path / 'killed' / 'log.csv').read_text().splitlines()[1:]
    assert [int(r.split(',')[0]) for r in rows] == list(range(1, 41))

def test_python_m_entry_points():
    for mod in ('zegclip.train', 'zegclip.cli'):
        args = ['--help'] if mod == 'zegclip.train' else ['evaluate', '--help']
        r = subprocess.run([sys.executable, '-m', mod, *args], capture_output=True, text=True, env=ENV, timeout=120)
        assert r.returncode == 0 and '--config' in r.stdout, r.stderr
