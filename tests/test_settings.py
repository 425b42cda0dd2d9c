"""One settings object: environment variables with prefix ASSISTANT_, every field documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from assistant import Settings
from tests.helpers import ROOT


def _env_names(model: type[BaseModel], prefix: str = "ASSISTANT_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            names += _env_names(ann, f"{prefix}{name.upper()}__")
        else:
            assert field.description, f"{prefix}{name.upper()} has no description"
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_described_in_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [n for n in _env_names(Settings) if f"`{n}`" not in readme]
    assert missing == []


def test_environment_sets_nested_sections(monkeypatch):
    monkeypatch.setenv("ASSISTANT_STORE", "/tmp/elsewhere")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "8")
    monkeypatch.setenv("ASSISTANT_LLM__URL", "http://127.0.0.1:8080/v1")
    settings = Settings()
    assert settings.store == Path("/tmp/elsewhere")
    assert settings.retrieval.top_k == 8
    assert settings.llm.url == "http://127.0.0.1:8080/v1"


def test_bad_value_names_the_setting(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "ASSISTANT_RETRIEVAL__TOP_K": "zero", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--store", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 1
    assert "TOP_K" in run.stderr.upper() and "Traceback" not in run.stderr
