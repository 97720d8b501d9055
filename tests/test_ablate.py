"`zegclip ablate --quick` end to end, as a user runs it: a subprocess on a fresh output folder (the schedule cut short)."
import json, math, os, subprocess, sys

SHORT = ['--iters', '12', '--warmup', '2', '--eval-n', '16', '--batch-size', '8']  # --quick's rows, a test's schedule


def test_ablate_quick(tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, '-m', 'zegclip.cli', 'ablate', '--quick', *SHORT, '--out', str(tmp_path)]
    r = subprocess.run(cmd + ['--json'], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    assert [row['row'] for row in rows] == ['Baseline-FT', 'Baseline-DPT', 'Baseline-DPT + RD']
    for row in rows:
        for k in ('pAcc', 'mIoU(S)', 'mIoU(U)', 'hIoU'):
            assert math.isfinite(row[k]) and 0 <= row[k] <= 100, (row['row'], k, row[k])
    for ext in ('csv', 'md', 'png'):
        assert (tmp_path / f'table5.{ext}').exists()
    # a second run resumes every finished row instead of training it again, and prints the claims its rows answer
    r2 = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r2.returncode == 0, r2.stderr[-3000:]
    for claim in ('(c) RD beats', '(d) Baseline-DPT beats Baseline-FT', 'one seed'):
        assert claim in r2.stdout, r2.stdout
    assert '(a)' not in r2.stdout and '(e)' not in r2.stdout  # neither ZegCLIP nor Baseline-Fix is among --quick's rows
