"""Where the project is: the repository root and its chapters (shared by the runner and the results page)."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "chapters"]


def project_root() -> Path:
    """The repository root: ``$LABNOISE_PROJECT`` or the folder above the package (an editable install)."""
    env = os.environ.get("LABNOISE_PROJECT")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    if (here / "notebooks").is_dir():
        return here
    if (Path.cwd() / "notebooks").is_dir():
        return Path.cwd()
    raise FileNotFoundError("cannot find the notebooks/ folder: run from a labnoise checkout or set "
                            "LABNOISE_PROJECT to it.")


def chapters() -> list[str]:
    """Chapter names in book order (every ``notebooks/NN_*.ipynb``)."""
    return sorted(p.stem for p in (project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))
