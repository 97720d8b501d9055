"""A student's time per notebook: run each notebook top to bottom as `nbdev_test` does (default flags: `slow` and `gpu`
cells skipped), one at a time with OMP_NUM_THREADS=2, record the wall-clock seconds in .ci/notebook_times.json, and write
them into the notebook table of nbs/index.ipynb (then run `zegclip readme`).

Usage: python .ci/time_notebooks.py [nbs/NN_name.ipynb ...]   # time these (default: every notebook), update the table
       python .ci/time_notebooks.py --table                   # only rewrite the table from the json
On a machine shared with other jobs the times are upper bounds; the json records the machine's core count and load.
"""
import argparse, json, os, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT/'.ci'/'notebook_times.json'
INDEX = ROOT/'nbs'/'index.ipynb'
COLUMN = 'top to bottom, 2 cores'

def time_notebook(nb: Path, threads: int = 2) -> dict:
    "Wall-clock seconds of `nbdev_test --path nb` (a fresh process, default flags) and whether it passed."
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}
    load = os.getloadavg()[0]
    t0 = time.time()
    r = subprocess.run(['nbdev_test', '--path', str(nb), '--n_workers', '0'], cwd=ROOT, env=env, capture_output=True, text=True)
    return {'seconds': round(time.time() - t0, 1), 'passed': r.returncode == 0, 'threads': threads,
            'load_before': round(load, 2), 'cpus': os.cpu_count()}

def fmt(seconds: float) -> str:
    "60.4 -> '1.0 min', 14 -> '14 s'."
    return f'{seconds:.0f} s' if seconds < 60 else f'{seconds / 60:.1f} min'

def table_cell(index: dict):
    "The markdown cell of the index that holds the notebook table."
    return next(c for c in index['cells'] if c['cell_type'] == 'markdown' and '| notebook | what it teaches |' in ''.join(c['source']))

ROW = re.compile(r'^\| \[(?P<name>[^\]]+)\]\((?P<file>[^)]+\.ipynb)\) \| (?P<what>.*?) \|(?: (?P<time>[^|]*) \|)?\s*$')

def with_times(md: str, times: dict) -> str:
    "The table markdown with a time column filled from `times` ({file: {'seconds': ...}}); '-' where a notebook is not timed."
    out = []
    for line in md.splitlines():
        m = ROW.match(line)
        if m:
            t = times.get(m['file'])
            shown = '-' if not t else fmt(t['seconds']) + ('' if t['passed'] else ' (failed)')
            line = f"| [{m['name']}]({m['file']}) | {m['what']} | {shown} |"
        elif line.startswith('| notebook | what it teaches |'): line = f'| notebook | what it teaches | {COLUMN} |'
        elif re.fullmatch(r'\|(---\|)+', line.strip()): line = '|---|---|---|'
        out.append(line)
    return '\n'.join(out)

def write_table(times: dict) -> bool:
    "Rewrite the index's table from `times`; True if it changed."
    index = json.loads(INDEX.read_text())
    cell = table_cell(index)
    old = ''.join(cell['source'])
    new = with_times(old, times)
    if new == old: return False
    cell['source'] = new.splitlines(keepends=True)
    INDEX.write_text(json.dumps(index, indent=1, ensure_ascii=False) + '\n')
    return True

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='*', help='notebooks to time (default: every nbs/NN_*.ipynb)')
    p.add_argument('--table', action='store_true', help='do not run anything: rewrite the index table from the json')
    a = p.parse_args(argv)
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    if not a.table:
        nbs = [Path(n) for n in a.notebooks] or sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb'))
        missing = [n for n in nbs if not n.is_file()]
        if missing: print(f'time_notebooks: no notebook {missing[0]}', file=sys.stderr); return 2
        for nb in nbs:
            times[nb.name] = r = time_notebook(nb)
            print(f"{nb.name:24s} {fmt(r['seconds']):>8s} {'passed' if r['passed'] else 'FAILED'} (load before {r['load_before']})", flush=True)
            TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + '\n')
    print(('updated' if write_table(times) else 'unchanged') + f' {INDEX.relative_to(ROOT)}; run `zegclip readme`')
    return 0

if __name__ == '__main__': sys.exit(main())
