"""Every flag reaches its config. For each command whose flags are generated from a config dataclass (`train`,
`evaluate`, `ablate`, `pretrain-miniclip`, `bench`), every field's flag is set to a value other than its default, and
the config that reaches the work (the function that trains, scores or times) must hold exactly those values. The
value tables must name every field, so a new field without a flag, or a flag that is dropped, fails here."""
import dataclasses
import pytest
import torch
from zegclip.cli import main

class Reached(Exception):
    "Raised by a stand-in for the real work, once it has recorded what it was given."

def flags(values: dict) -> list:
    "`--field-name value` for each entry; booleans as `--x`/`--no-x`, tuples as several values."
    out = []
    for k, v in values.items():
        name = k.replace('_', '-')
        if isinstance(v, bool): out.append(f"--{'' if v else 'no-'}{name}")
        else: out += [f'--{name}', *map(str, v if isinstance(v, tuple) else (v,))]
    return out

def check_values(cls, values: dict):
    "The table names every field of `cls`, each with a value other than its default."
    default = cls()
    assert set(values) == {f.name for f in dataclasses.fields(cls)}, set(values) ^ {f.name for f in dataclasses.fields(cls)}
    for k, v in values.items(): assert getattr(default, k) != v, k

def capture(monkeypatch, module, name, got):
    "Replace `module.name` by a function that records its arguments and stops the command."
    def stand_in(*args, **kw): got.update(args=args, kw=kw); raise Reached
    monkeypatch.setattr(module, name, stand_in)

def test_train_flags(monkeypatch, tmp_path):
    import zegclip.train as T
    values = dict(iters=7, batch_size=8, accum=2, lr=3e-3, encoder_lr_mult=0.3, weight_decay=0.02, warmup=3, warmup_ratio=0.01,
                  power=1.0, min_lr=1e-7, self_training_start=0.25, st_restart=False, eval_every=5, ckpt_every=4, log_every=2,
                  eval_n=9, shapes_train=100, seed=3, num_workers=1, amp='none')
    check_values(T.TrainConfig, values)
    got = {}
    capture(monkeypatch, T, 'train', got)
    with pytest.raises(Reached): main(['train', '--config', 'shapes-zegclip', '--tiny', '--out', str(tmp_path/'run'), *flags(values)])
    config, tcfg = got['args'][:2]
    assert tcfg == T.TrainConfig(**values)
    assert tcfg.encoder_lr_mult == 0.3  # the flag that used to be parsed and dropped
    with pytest.raises(Reached): main(['train', '--config', 'shapes-zegclip', '--tiny', '--out', str(tmp_path/'run'), '--workers', '2'])
    assert got['args'][1] == T.TrainConfig(num_workers=2)  # the old name of --num-workers still works

def test_evaluate_flags(monkeypatch, tmp_path):
    import zegclip.train as T
    values = dict(split='test', limit=5, batch_size=3)
    check_values(T.EvalConfig, values)
    ck = tmp_path/'last.pt'; ck.write_bytes(b'x')
    monkeypatch.setattr(T, 'read_checkpoint', lambda p: {'config': {'model': {}, 'train': {'seed': 0}}})
    monkeypatch.setattr(T, 'config_diff', lambda *a: [])
    monkeypatch.setattr(T, 'build_model', lambda *a: torch.nn.Identity())
    monkeypatch.setattr(T, 'load_checkpoint', lambda *a, **k: None)
    monkeypatch.setattr(T, 'ShapesDataset', lambda split, n: ('shapes', split, n))
    got = {}
    capture(monkeypatch, T, 'evaluate', got)
    with pytest.raises(Reached): main(['evaluate', '--config', 'shapes-zegclip', '--tiny', '--checkpoint', str(ck), *flags(values)])
    assert got['args'][1] == ('shapes', 'test', 5)
    assert got['kw']['batch_size'] == 3 and got['kw']['limit'] == 5

def test_ablate_flags(monkeypatch, tmp_path):
    import zegclip.ablation as A
    values = dict(table='table4', base='shapes-zegclip-st', seeds=(3, 4), iters=11, batch_size=4, accum=2, warmup=2, lr=0.01,
                  encoder_lr_mult=0.5, eval_n=12, eval_every=6, out=str(tmp_path/'abl'), root=str(tmp_path/'root'),
                  overrides={'loss': 'ce'}, rows=('A', 'B'))
    check_values(A.StudyConfig, values)
    got = {}
    capture(monkeypatch, A, 'run_study', got)
    argv = flags({k: v for k, v in values.items() if k != 'overrides'}) + ['--set', 'loss=ce']
    with pytest.raises(Reached): main(['ablate', *argv])
    assert got['args'][0] == A.StudyConfig(**values)
    with pytest.raises(Reached): main(['ablate', '--quick', '--iters', '9'])
    assert got['args'][0] == A.StudyConfig(**{**A.QUICK, 'iters': 9, 'out': 'runs/ablation-quick'})  # flags beat --quick

def test_pretrain_miniclip_flags(monkeypatch, tmp_path):
    import zegclip.miniclip as M
    values = dict(steps=10, batch_size=8, lr=0.01, weight_decay=0.2, warmup=5, seed=2, eval_every=4, eval_n=16, ckpt_every=3,
                  threads=1, cycles=3, cycle_decay=0.25, pool_type=next(p for p in M.MINICLIP_POOLS if p != M.MINICLIP_POOL),
                  region_weight=0.5, init='shapes')
    check_values(M.PretrainConfig, values)
    got = {}
    capture(monkeypatch, M, 'pretrain_miniclip', got)
    with pytest.raises(Reached): main(['pretrain-miniclip', '--out', str(tmp_path/'m'), *flags(values)])
    assert got['args'][:2] == (str(tmp_path/'m'), M.PretrainConfig(**values))

def test_bench_flags(monkeypatch):
    import zegclip.speed as S
    values = dict(preset='shapes-zegclip', quick=True, train=True, repeats=2, batch=3, proposals=7, device='cpu', compile=True,
                  threads=1, against='HEAD~1', phases=True)
    check_values(S.BenchConfig, values)
    made, got = [], {}
    real = S.config_from_args
    monkeypatch.setattr(S, 'config_from_args', lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    capture(monkeypatch, S, 'train_against', got)
    threads = torch.get_num_threads()
    try:
        with pytest.raises(Reached): main(['bench', *flags(values)])
    finally: torch.set_num_threads(threads)
    assert made == [S.BenchConfig(**values)]
    assert got['args'] == ('HEAD~1',)
    del values['against']
    capture(monkeypatch, S, 'train_phases', got)
    try:
        with pytest.raises(Reached): main(['bench', *flags(values)])
    finally: torch.set_num_threads(threads)
    assert got['kw'] == dict(mode='dpt')
    values['phases'] = False
    capture(monkeypatch, S, 'train_bench', got)
    try:
        with pytest.raises(Reached): main(['bench', *flags(values)])
    finally: torch.set_num_threads(threads)
    assert got['kw'] == dict(quick=True, device='cpu', verbose=True)
    values['train'] = False
    capture(monkeypatch, S, 'bench', got)
    try:
        with pytest.raises(Reached): main(['bench', *flags(values)])
    finally: torch.set_num_threads(threads)
    assert got['args'] == ('shapes-zegclip',)
    assert got['kw'] == dict(quick=True, repeats=2, batch=3, proposals=7, device='cpu', compile=True, verbose=True)
