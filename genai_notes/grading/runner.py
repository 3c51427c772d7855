"""Running one submission in its own kernel, then asking the package's checkers about it.

Each submission gets a fresh IPython kernel in a subprocess, started through
:mod:`genai_notes.grading.kernel_limits` (a memory cap where the OS has one), in an empty
temporary working folder, with ``GENAI_NOTES_STRICT_EXERCISES`` unset and one BLAS thread.
Its code cells run in order; a cell that raises is recorded by the kernel as usual and the
next cell runs, as in "Run All" with errors allowed. Then the grader sends one more cell, its
own and never read from the notebook: it drops the kernel's copy of
``genai_notes.exercises`` (so a notebook that replaced ``ex``, a question or
``Question.evaluate`` changes nothing), imports the installed package afresh, evaluates
every question of the chapter on the names the student defined, and writes the results as
JSON to a file whose random name and nonce exist only in that cell. Stored outputs are never
read, so an edited or deleted check cell, or a pasted "Correct" output, gains nothing.

Each question's evaluation has its own time limit (``SIGALRM`` where the OS has it), so an
answer that loops forever is an ``error`` for that question only. A cell past its time limit,
the notebook past its total, or a kernel that dies ends the submission as one ``error`` row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_notes.exercises import STRICT_ENV_VAR

__all__ = ["Limits", "grader_source", "run_notebook", "kernel_command"]

KERNEL_NAME = "genai-notes-grader"
STATUSES = ("passed", "failed", "not attempted", "error")


@dataclass(frozen=True)
class Limits:
    """How long and how much a submission may take.

    notebook_seconds: wall-clock limit for all of the student's cells together.
    cell_seconds: wall-clock limit for one cell, and for checking one question.
    memory_mb: the kernel's address-space cap in megabytes (0: none), where the OS has one.
    startup_seconds: how long the kernel may take to start.
    """

    notebook_seconds: float = 600.0
    cell_seconds: float = 120.0
    memory_mb: int = 4096
    startup_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in ("notebook_seconds", "cell_seconds", "startup_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name}: expected a positive number of seconds, got {value!r}")
        if isinstance(self.memory_mb, bool) or not isinstance(self.memory_mb, int):
            raise ValueError(f"memory_mb: expected a whole number, got {self.memory_mb!r}")
        if self.memory_mb < 0:
            raise ValueError(f"memory_mb: expected 0 (no cap) or more, got {self.memory_mb}")


def kernel_command(memory_mb: int) -> list[str]:
    """The kernel's command line (``{connection_file}`` is filled in by jupyter_client).

    >>> kernel_command(512)[1:5]
    ['-m', 'genai_notes.grading.kernel_limits', '--memory-mb', '512']
    """
    return [
        sys.executable,
        "-m",
        "genai_notes.grading.kernel_limits",
        "--memory-mb",
        str(memory_mb),
        "--unset",
        STRICT_ENV_VAR,
        "--",
        "-f",
        "{connection_file}",
        "--HistoryManager.hist_file=:memory:",
    ]


_KERNEL_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",  # figures are not graded: do not render them
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

_GRADER = """\
def _genai_notes_grader(namespace, chapter, answers, result_path, nonce, seconds):
    import importlib, json, signal, sys

    for stale in [m for m in sys.modules if m.startswith("genai_notes.exercises")]:
        del sys.modules[stale]
    exercises = importlib.import_module("genai_notes.exercises")
    module = exercises.chapter_module(chapter)

    class TimeLimit(BaseException):  # not an Exception: the checker must not catch it
        pass

    def timed_out(signum, frame):
        raise TimeLimit()

    try:
        previous = signal.signal(signal.SIGALRM, timed_out)
    except (AttributeError, ValueError):  # no SIGALRM, or not the main thread
        previous = None
    results = {}
    for question in exercises.questions(module):
        name = answers.get(question.name)
        if not name or name not in namespace:
            what = name or "its answer"
            results[question.name] = ["not attempted", f"{what} is not defined"]
            continue
        answer = namespace[name]
        owner = str(getattr(answer, "__module__", "") or "")
        if question.kind == "function" and owner.split(".")[0] == "genai_notes":
            own = owner + "." + str(getattr(answer, "__qualname__", name))
            results[question.name] = [
                "failed", f"{name} is the package's own {own}, not code you wrote"]
            continue
        if previous is not None:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            feedback = question.evaluate(answer)
            words = exercises.STATUS_WORDS[feedback.status]
            results[question.name] = [words, " ".join(feedback.message.split())]
        except TimeLimit:
            results[question.name] = [
                "error", f"timed out: checking it took longer than {seconds:g} s"]
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: this question only
            lines = str(exc).strip().splitlines()
            last = type(exc).__name__ + (": " + lines[-1] if lines else "")
            results[question.name] = ["error", last]
        finally:
            if previous is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
    if previous is not None:
        signal.signal(signal.SIGALRM, previous)
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump({"nonce": nonce, "chapter": chapter, "results": results}, file)


"""


def grader_source(
    chapter: int, answers: dict[str, str | None], result_path: str, nonce: str, seconds: float
) -> str:
    """The cell the grader appends: check every question, write JSON to ``result_path``.

    >>> "genai_notes.exercises" in grader_source(1, {"q1": "f"}, "/tmp/r.json", "abc", 5)
    True
    """
    call = (
        f"_genai_notes_grader(globals(), {int(chapter)!r}, {dict(sorted(answers.items()))!r}, "
        f"{str(result_path)!r}, {nonce!r}, {float(seconds)!r})"
    )
    return _GRADER + call + "\ndel _genai_notes_grader\n"


def _client(notebook: Any, limits: Limits, workdir: str, private: str, keep: set[int]) -> Any:
    """An nbclient client whose kernel is started by kernel_limits; it keeps the outputs of
    the cells in ``keep`` only (a student's endless printing does not fill the grader). Its
    sockets are Unix sockets in ``private`` where the OS has them."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    spec = KernelSpec(
        argv=kernel_command(limits.memory_mb),
        display_name="genai-notes grader",
        language="python",
        env=dict(_KERNEL_ENV),
    )

    class Specs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str, *args: Any, **kwargs: Any) -> KernelSpec:
            return spec

    class Client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):  # type: ignore[override]
            if cell_index in keep:
                return super().output(outs, msg, display_id, cell_index)
            return None

    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=Specs())
    if sys.platform != "win32":  # Unix sockets in a private folder, not open TCP ports
        manager.transport = "ipc"
        manager.ip = str(Path(private) / "kernel")
    manager.connection_file = str(Path(private) / "kernel.json")
    quiet = logging.getLogger("genai_notes.grading.kernel")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False  # nbclient logs every time-out and dead kernel: the rows say it
    return Client(
        notebook,
        log=quiet,
        km=manager,
        timeout=math.ceil(limits.cell_seconds),
        startup_timeout=math.ceil(limits.startup_seconds),
        allow_errors=True,
        resources={"metadata": {"path": workdir}},
    )


def _error_text(cell: Any) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"
    return "it printed no error"


async def _exit_code(client: Any) -> str:
    try:
        code = await client.km.provisioner.poll()
    except Exception:
        code = None
    if code is None:
        return ""
    if code < 0:
        return f" (killed by signal {-code})"
    return f" (exit code {code})"


async def run_notebook(
    notebook: dict[str, Any], chapter: int, answers: dict[str, str | None], limits: Limits
) -> dict[str, list[str]] | str:
    """Run a submission's code cells in a fresh kernel and check its answers.

    Returns ``{question name: [status, detail]}``, or a string saying why the whole
    submission could not be graded (a time-out, a dead kernel).
    """
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = _node(notebook)
    code = [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if cell.get("cell_type") == "code" and str(cell.get("source", "")).strip()
    ]
    with tempfile.TemporaryDirectory(prefix="genai-notes-grade-") as workdir:
        with tempfile.TemporaryDirectory(prefix="genai-notes-result-") as private:
            nonce = secrets.token_hex(16)
            result = Path(private) / f"{secrets.token_hex(16)}.json"
            source = grader_source(chapter, answers, str(result), nonce, limits.cell_seconds)
            nb.cells.append(nbformat.v4.new_code_cell(source))
            grader_index = len(nb.cells) - 1
            grading_budget = limits.cell_seconds * (len(answers) + 1) + 30
            client = _client(nb, limits, workdir, private, {grader_index})
            deadline = time.monotonic() + limits.notebook_seconds
            where = "while starting the kernel"
            try:
                quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
                async with client.async_setup_kernel(**quiet):
                    for number, (index, cell) in enumerate(code, start=1):
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return (
                                f"timed out: the notebook ran longer than "
                                f"{limits.notebook_seconds:g} s in all (stopped before code "
                                f"cell {number})"
                            )
                        client.timeout = math.ceil(min(limits.cell_seconds, left))
                        where = f"in code cell {number}"
                        try:
                            await client.async_execute_cell(cell, index)
                        except CellTimeoutError:
                            if left < limits.cell_seconds:
                                return (
                                    f"timed out: the notebook ran longer than "
                                    f"{limits.notebook_seconds:g} s in all (in code cell "
                                    f"{number})"
                                )
                            return (
                                f"timed out: code cell {number} ran longer than "
                                f"{limits.cell_seconds:g} s (an endless loop?)"
                            )
                    where = "while its answers were checked"
                    client.timeout = math.ceil(grading_budget)
                    grader = nb.cells[grader_index]
                    try:
                        await client.async_execute_cell(grader, grader_index)
                    except CellTimeoutError:
                        return (
                            f"timed out: checking the answers took longer than {grading_budget:g} s"
                        )
            except DeadKernelError:
                return f"the kernel died {where}{await _exit_code(client)}"
            except RuntimeError as exc:  # nbclient: the kernel did not start or respond
                return f"the kernel stopped {where}: {exc}"
            finally:
                await _shutdown(client)
            return _read_result(result, nonce, answers, nb.cells[grader_index])


async def _shutdown(client: Any) -> None:
    """Kill the kernel (and its process group) and remove its files, whatever state it is in:
    the client does not own its kernel manager, so it would leave the kernel running."""
    manager = client.km
    if manager is None:
        return
    try:
        if client.kc is not None:
            client.kc.stop_channels()
        await manager.shutdown_kernel(now=True)
    except Exception:  # already dead, or never started: nothing left to stop
        pass


def _node(notebook: dict[str, Any]) -> Any:
    """A copy of ``notebook`` as nbformat nodes, sources joined, nothing else changed (no
    validation: a notebook from an old Jupyter, without cell ids, is run all the same)."""
    import nbformat

    copy = json.loads(json.dumps(notebook))
    cells = []
    for cell in copy.get("cells", []):
        if not isinstance(cell, dict) or not isinstance(cell.get("source", ""), (str, list)):
            continue
        source = cell.get("source", "")
        cell["source"] = "".join(map(str, source)) if isinstance(source, list) else source
        cell.setdefault("metadata", {})
        if cell.get("cell_type") == "code":
            cell["outputs"] = []  # never read; the kernel's new ones are not kept either
            cell.setdefault("execution_count", None)
        cells.append(cell)
    copy["cells"] = cells
    return nbformat.from_dict(copy)


def _read_result(
    path: Path, nonce: str, answers: dict[str, str | None], cell: Any
) -> dict[str, list[str]] | str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return f"the grader's check did not finish: {_error_text(cell)}"
    results = data.get("results") if isinstance(data, dict) else None
    if (
        data.get("nonce") != nonce
        or not isinstance(results, dict)
        or set(results) != set(answers)
        or any(
            not isinstance(r, list) or len(r) != 2 or r[0] not in STATUSES for r in results.values()
        )
    ):
        return "the grader's result was not its own (it was changed): not graded"
    return {name: [str(status), str(detail)] for name, (status, detail) in results.items()}


def run_sync(
    notebook: dict[str, Any], chapter: int, answers: dict[str, str | None], limits: Limits
) -> dict[str, list[str]] | str:
    """:func:`run_notebook` from synchronous code."""
    return asyncio.run(run_notebook(notebook, chapter, answers, limits))
