"`zegclip bench --quick --json` end to end, as a user runs it: the keys the issue names and the GMAC-within-1% claim."
import json, math, os, subprocess, sys


def test_bench_quick_json():
    env = {**os.environ, 'OMP_NUM_THREADS': '2'}
    r = subprocess.run([sys.executable, '-m', 'zegclip.cli', 'bench', '--quick', '--json'], capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    for k in ('peak_gflops', 'model_gflops_per_s', 'fraction_of_peak', 'images_per_s', 'two_stage_ratio', 'gmac_per_crop'):
        assert isinstance(res[k], (int, float)) and math.isfinite(res[k]) and res[k] > 0, (k, res.get(k))
    assert abs(res['gmac_per_crop'] / 110.4 - 1) < 0.01 and abs(res['gmac_per_crop_coco'] / 123.9 - 1) < 0.01
    assert res['gmac_counted'] == res['gmac_per_crop']  # the analytic count is what torch's FlopCounterMode counts
    assert res['two_stage']['proposals'] == 100 and res['two_stage_ratio'] > 1
    assert math.isclose(res['fraction_of_peak'], res['model_gflops_per_s'] / res['peak_gflops'])
    assert res['machine']['threads'] >= 1 and res['windows_per_image'] == 2
