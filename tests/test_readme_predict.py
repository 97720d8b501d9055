"""The README's `zegclip predict` example as a newcomer runs it: the classes it types are the classes in the image, and
with the shipped model the picture is right: each shape mostly labelled with its own name, the background mostly
"none". If a re-shipped model gets this image wrong, choose another `shapes:test:N` in nbs/index.ipynb."""
import os, shlex, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from zegclip.clip import data_dir
from zegclip.shapes import SHAPE_CLASSES

ROOT = Path(__file__).resolve().parents[1]

def readme_example() -> list:
    "The arguments of the README's `zegclip predict` command line."
    line = next(l for l in (ROOT/'README.md').read_text().splitlines() if l.startswith('zegclip predict '))
    return shlex.split(line)[2:]

def test_readme_types_the_image_classes():
    from zegclip.demo import parse_classes, read_image
    args = readme_example()
    _, truth = read_image(args[0])
    assert truth is not None, 'the README example should use a Shapes-world image (shapes:test:N), whose classes are known'
    true = {SHAPE_CLASSES[k - 1] for k in np.unique(truth) if k not in (0, 255)}
    assert set(parse_classes(args[args.index('--classes') + 1])) == true

@pytest.mark.skipif(not (data_dir()/'zegclip_shapes.safetensors').is_file(), reason='the shipped Shapes-world model is not in data/')
def test_readme_picture_is_right(tmp_path):
    from zegclip.demo import default_none_below, labels_and_shares, load_model, parse_classes, read_image
    from zegclip.model import predict
    args = readme_example()
    r = subprocess.run([sys.executable, '-m', 'zegclip.cli', 'predict', *args], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)})
    assert r.returncode == 0, r.stderr
    out_png = tmp_path/args[args.index('--out') + 1]
    assert out_png.read_bytes().startswith(b'\x89PNG')
    assert r.stdout.splitlines()[0].split()[0] == 'none', r.stdout  # the background, the largest share, is 'none'
    # What the picture shows, pixel by pixel, against the image's true labels
    model, names = load_model(), parse_classes(args[args.index('--classes') + 1])
    img, truth = read_image(args[0])
    lbl, _ = labels_and_shares(predict(model, img, names), default_none_below(model))
    for j, name in enumerate(names):
        own = (lbl[truth == SHAPE_CLASSES.index(name) + 1] == j).mean()
        assert own > 0.6, f'{name}: only {own:.0%} of its pixels are labelled {name}'
    assert (lbl[truth == 0] == len(names)).mean() > 0.8  # background pixels labelled 'none'
