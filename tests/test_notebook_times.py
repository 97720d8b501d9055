"""The index's notebook table shows the times `.ci/time_notebooks.py` measured, as that script writes them (never typed
by hand): the table must be what the script would write from `.ci/notebook_times.json`."""
import importlib.util, json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _script():
    spec = importlib.util.spec_from_file_location('time_notebooks', ROOT/'.ci'/'time_notebooks.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_index_table_shows_the_recorded_times():
    tn = _script()
    times = json.loads(tn.TIMES.read_text())
    md = ''.join(tn.table_cell(json.loads(tn.INDEX.read_text()))['source'])
    assert md == tn.with_times(md, times), 'the index table is out of date: run `python .ci/time_notebooks.py --table` and `zegclip readme`'
    rows = [l for l in md.splitlines() if tn.ROW.match(l)]
    timed = [l for l in rows if not l.endswith('| - |')]
    assert timed and all(tn.ROW.match(l)['file'] in times for l in timed)

def test_time_format_and_columns():
    tn = _script()
    assert (tn.fmt(14.2), tn.fmt(59.9), tn.fmt(60.4), tn.fmt(185)) == ('14 s', '60 s', '1.0 min', '3.1 min')
    md = '| notebook | what it teaches |\n|---|---|\n| [00_a](00_a.ipynb) | A |\n| [01_b](01_b.ipynb) | B |'
    new = tn.with_times(md, {'00_a.ipynb': {'seconds': 90, 'passed': True}})
    assert new.splitlines() == [f'| notebook | what it teaches | {tn.COLUMN} |', '|---|---|---|',
                                '| [00_a](00_a.ipynb) | A | 1.5 min |', '| [01_b](01_b.ipynb) | B | - |']
    assert tn.with_times(new, {'00_a.ipynb': {'seconds': 30, 'passed': False}}).splitlines()[2] == '| [00_a](00_a.ipynb) | A | 30 s (failed) |'
