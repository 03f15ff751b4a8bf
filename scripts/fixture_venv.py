"""Shared by the fixture scripts: run the calling script inside its own pinned virtualenv.

Each fixture script needs Python packages (keras, tensorflow, ...) that the project itself does not.
`reexec_in_venv` creates `venv` if missing, installs the pins when `probe` (a python -c snippet)
does not print `expected`, then re-runs the script with the venv's interpreter. Idempotent: a venv
already at the pinned versions is used as it is.
"""
import os
import subprocess
import sys
from pathlib import Path


def in_venv(venv: Path) -> bool:
    return Path(sys.prefix).resolve() == venv.resolve()


def reexec_in_venv(venv: Path, probe: str, expected: str, installs: list[list[str]], script: str) -> None:
    """`installs` are pip argument lists run in order (e.g. a second one with --no-deps)."""
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
    have = subprocess.run([str(py), "-c", probe], capture_output=True, text=True).stdout.strip()
    if have != expected:
        for args in installs:
            subprocess.check_call([str(py), "-m", "pip", "install", "--quiet", *args])
    os.execv(str(py), [str(py), script, *sys.argv[1:]])
