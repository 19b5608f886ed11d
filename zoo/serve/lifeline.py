"""The server's processes end with `zoo serve`, however it ends: LitServe's HTTP server and its
manager are forked from the command and its models' worker is spawned from it, and none of them
noticed a SIGKILL of the command, so they went on holding the port.

On Linux a child asks the kernel to kill it when its parent ends (`prctl(PR_SET_PDEATHSIG)`,
through ctypes); elsewhere a thread of the child looks at its parent's pid every second.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
"""prctl's option: the signal the kernel sends this process when its parent ends (linux/prctl.h)."""
WATCH_S = 1.0


def die_with(parent: int) -> None:
    """In a child process of `parent`: end when it ends, even by SIGKILL."""
    if not (sys.platform.startswith("linux") and kernel_kills_orphan()):
        threading.Thread(target=watch, args=(parent,), name="zoo-lifeline", daemon=True).start()
    if os.getppid() != parent:  # it ended before this child could ask
        os._exit(1)


def kernel_kills_orphan() -> bool:
    """Ask Linux for SIGKILL when the parent ends; False when prctl is not there or refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def watch(parent: int) -> None:
    """Where the kernel does not help: end this process once `parent` is no longer its parent."""
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    os._exit(1)


class ForkedChildren:
    """Every process forked from this one from now on dies with it (`os.register_at_fork`): the
    pid is taken before the fork, in the process that forks."""

    def __init__(self) -> None:
        self.parent = os.getpid()
        os.register_at_fork(before=self.note_parent, after_in_child=self.tie)

    def note_parent(self) -> None:
        self.parent = os.getpid()

    def tie(self) -> None:
        die_with(self.parent)
