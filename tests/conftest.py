"""Shared fixtures: where the real clips are, and skipping politely when they are not."""

import os
from pathlib import Path

import pytest

from povkit.cli import main

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def real_clip():
    """Return the path of a clip under POVKIT_TEST_DATA, or skip the test with the reason."""

    def find(relative: str) -> Path:
        path = DATA / relative
        if not path.exists():
            pytest.skip(f"real clip {relative} not found under {DATA} (set POVKIT_TEST_DATA)")
        return path

    return find


@pytest.fixture
def run_cli(capsys):
    """Run the ``povkit`` command in-process: (exit code, stdout, stderr); a traceback on stderr
    fails the test, since every error must be one line."""

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run
