"""Start an IPython kernel under resource limits: the grader's kernel command.

The grader launches each submission's kernel as::

    python -m genai_notes.grading.kernel_limits --memory-mb 4096 \\
        --unset GENAI_NOTES_STRICT_EXERCISES -- -f CONNECTION_FILE

This process sets the limits on itself and then *replaces itself* with the ordinary kernel
(``os.execve`` of ``python -m ipykernel_launcher``, without the ``--unset`` variables), so
the limits hold for the kernel and for anything it starts, and never for the grader, which
only talks to the kernel over ZeroMQ.

* ``RLIMIT_AS`` caps the kernel's address space at ``--memory-mb`` megabytes: an allocation
  past it fails with ``MemoryError`` in the student's cell instead of exhausting the machine.
* ``RLIMIT_CORE`` is 0: a crash leaves no core file behind.

Where the OS has no ``resource`` module (Windows) or refuses the limit (macOS does not
enforce ``RLIMIT_AS``), the kernel starts without it; the grader's wall-clock timeouts still
apply.

>>> limits_for(512)[0][1] == 512 * 2**20
True
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["limits_for", "apply_limits", "main"]


def limits_for(memory_mb: int) -> list[tuple[str, int]]:
    """The ``(resource name, value)`` pairs to set for a memory cap of ``memory_mb`` MB (0: no
    memory cap)."""
    if not isinstance(memory_mb, int) or isinstance(memory_mb, bool) or memory_mb < 0:
        raise ValueError(f"memory_mb: expected a whole number of megabytes >= 0, got {memory_mb!r}")
    limits = [("RLIMIT_AS", memory_mb * 2**20)] if memory_mb else []
    return limits + [("RLIMIT_CORE", 0)]


def apply_limits(memory_mb: int) -> list[str]:
    """Set the limits on this process where the OS supports them; return the ones set."""
    try:
        import resource
    except ImportError:  # Windows
        return []
    done = []
    for name, value in limits_for(memory_mb):
        which = getattr(resource, name, None)
        if which is None:
            continue
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            continue
        done.append(name)
    return done


def main(argv: list[str] | None = None) -> None:
    """Set the limits, then exec ``python -m ipykernel_launcher`` with the remaining arguments."""
    parser = argparse.ArgumentParser(prog="python -m genai_notes.grading.kernel_limits")
    parser.add_argument("--memory-mb", type=int, default=0, help="address-space cap (0: none)")
    parser.add_argument("--unset", action="append", default=[], help="drop this variable")
    parser.add_argument("kernel_args", nargs=argparse.REMAINDER, help="-- then ipykernel's")
    args = parser.parse_args(argv)
    kernel_args = args.kernel_args[1:] if args.kernel_args[:1] == ["--"] else args.kernel_args
    apply_limits(args.memory_mb)
    env = {k: v for k, v in os.environ.items() if k not in set(args.unset)}
    os.execve(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *kernel_args], env)


if __name__ == "__main__":
    main()
