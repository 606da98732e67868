"""The README's Python example runs as written (on a synthetic walk)."""

import re
from pathlib import Path

from povkit.io.synthetic import write_synthetic_clip

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_example_runs(tmp_path, monkeypatch, capsys):
    (example,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    monkeypatch.chdir(tmp_path)
    write_synthetic_clip(tmp_path / "walk.mp4", seconds=2.0, width=320, height=180, seed=3)
    exec(compile(example, str(README), "exec"), {})
    zoom, frames = capsys.readouterr().out.split()
    assert float(zoom) >= 1 and int(frames) == 60
    assert (tmp_path / "walk_l1.mp4").exists() and (tmp_path / "walk.npz").exists()
