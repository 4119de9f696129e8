"""The README stays true: its CLI reference is generated, its API example runs."""

import re
from pathlib import Path

import pytest

from eq_engine.cli.reference import BEGIN, END, cli_reference_markdown, replace_section

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_shows_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


def test_cli_reference_is_current():
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert replace_section(text, cli_reference_markdown()) == text, (
        "README CLI reference is stale: run `.venv/bin/python -m eq_engine.cli.reference --write README.md`"
    )


@pytest.mark.slow
def test_headless_api_example_runs(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Headless API\s+```python\n(.*?)```", text, re.S)
    assert block, "README lost its headless API example"
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EQ_RUNS_DIR", str(tmp_path / "runs"))
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "mito.eqm").is_file()
    assert namespace["prediction"].probability.shape == (128, 128)
