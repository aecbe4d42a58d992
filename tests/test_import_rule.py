"""The import rule is checked by import-linter (contracts in pyproject.toml; `make lint` and
`make test` run `lint-imports`). These tests run the checker as CI does and prove that it bites: a
copy of the code with one wrong-way import fails, and the same copy without it passes."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "classes", "enrollment", "instructors", "finance", "reports")
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=where, env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("code")
    for app in APPS:
        shutil.copytree(ROOT / app, where / app, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


def _inject(where: Path, module: str, line: str) -> None:
    path = where / module
    path.write_text(path.read_text() + f"\n{line}  # a wrong import, put here by the test\n")


def test_the_code_keeps_every_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    ("module", "line", "complaint"),
    [
        # a model reaching up the order: classes sits below finance
        ("classes/models.py", "from finance import pricing", "classes is not allowed to import finance"),
        # a service of enrollment calling a finance service
        ("enrollment/services/__init__.py", "import finance.services", "enrollment is not allowed to import finance"),
        # a form calling a service of its own app
        ("enrollment/views/forms/checkout.py", "import enrollment.services", "is not allowed to import"),
        # a cycle inside an app: the outbox's delivery task importing back into its caller
        ("core/models.py", "import core.outbox", "No cycles are allowed in core"),
    ],
    ids=["model-upward", "service-upward", "form-calls-service", "cycle-in-app"],
)
def test_a_wrong_import_fails_the_check(copy, module, line, complaint):
    original = (copy / module).read_text()
    try:
        assert _lint(copy).returncode == 0  # the control: the copy as it is passes
        _inject(copy, module, line)
        result = _lint(copy)
        assert result.returncode != 0
        assert complaint in result.stdout, result.stdout
    finally:
        (copy / module).write_text(original)
