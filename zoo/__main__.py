"""`python -m zoo`: the `zoo` command, importing what the `zoo` script would.

`python -m` puts the working folder first on sys.path (unless `-P` or PYTHONSAFEPATH), which the
`zoo` script does not: a module lying there (`evil.py`, named by a config's `class_path`) would be
imported, and run, before any check. That entry goes; a folder the user puts on PYTHONPATH, the
working folder included, stays importable as it is for the `zoo` script.
"""

import os
import sys


def drop_working_folder(path: list[str]) -> None:
    """Remove the working folder `python -m` put first on `path`; a later entry (from PYTHONPATH) stays."""
    safe = getattr(sys.flags, "safe_path", False)  # Python 3.11's -P: nothing was put there
    if not safe and path and os.path.realpath(path[0] or os.curdir) == os.path.realpath(os.curdir):
        del path[0]


drop_working_folder(sys.path)

from zoo.cli import main  # noqa: E402  (after the working folder left sys.path)

main()
