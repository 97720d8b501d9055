"`zegclip ablate --quick --json` end to end, as a user runs it: a subprocess on a fresh output folder."
import json, math, os, subprocess, sys


def test_ablate_quick_json(tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, '-m', 'zegclip.cli', 'ablate', '--quick', '--json', '--out', str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(rows) == 12
    assert rows[-1]['row'] == 'Baseline-DPT + NEL + RD (ZegCLIP)' and rows[0]['row'] == 'Baseline-Fix'
    for row in rows:
        for k in ('pAcc', 'mIoU(S)', 'mIoU(U)', 'hIoU'):
            assert math.isfinite(row[k]) and 0 <= row[k] <= 100, (row['row'], k, row[k])
    for ext in ('csv', 'md', 'png'):
        assert (tmp_path / f'table5.{ext}').exists()
    # a second run resumes every finished row instead of training it again
    r2 = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r2.returncode == 0 and json.loads(r2.stdout.strip().splitlines()[-1]) == rows
