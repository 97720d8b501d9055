"""One layered package: the graph of imports among zegclip's modules, counting imports inside functions too (a
function-local import hides a cycle from Python, not from the design), has no cycle; `core` imports nothing from the
package; and ruff finds no undefined name and no unused import."""
import ast, shutil, subprocess, sys
from pathlib import Path
import pytest
import zegclip

PKG = Path(zegclip.__file__).parent

def imports_of(path: Path) -> set:
    "zegclip modules that `path` imports anywhere (module level or inside functions)."
    mod, out = path.stem, set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level: base = node.module or ''  # `from .x import y` / `from . import x`
            elif (node.module or '').startswith('zegclip'): base = node.module[len('zegclip'):].lstrip('.')
            else: continue
            names = [base] if base else [a.name for a in node.names]
            out |= {n.split('.')[0] for n in names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split('.')[1] for a in node.names if a.name.startswith('zegclip.')}
    modules = {p.stem for p in PKG.glob('*.py')}
    return {m for m in out if m in modules and m != mod}

def graph() -> dict:
    return {p.stem: imports_of(p) for p in PKG.glob('*.py') if p.stem not in ('__init__', '_modidx')}

def find_cycle(g: dict):
    "A cycle as a list of modules, or None (depth-first search)."
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == 'open': return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)): return c
        state[m] = 'done'; stack.pop()
    for m in sorted(g):
        if m not in state and (c := visit(m)): return c

def test_finds_cycles():
    "The checker itself: a toy graph with a cycle, one without."
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': set()}) is None

def test_no_import_cycle():
    g = graph()
    assert 'model' in g['demo'] and 'clip' in g['model']  # the parser sees the package's imports
    assert find_cycle(g) is None, ' -> '.join(find_cycle(g))

def test_core_is_a_leaf():
    assert graph()['core'] == set()

@pytest.mark.skipif(shutil.which('ruff') is None and subprocess.run([sys.executable, '-m', 'ruff', '--version'],
                    capture_output=True).returncode != 0, reason='ruff is not installed (pip install -e ".[dev]")')
def test_ruff():
    "Undefined names (F821), unused imports (F401) and redefinitions (F811): the errors a notebook test cannot see."
    r = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--select', 'F401,F821,F811', '--output-format', 'concise', str(PKG)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
