"""The chapters' explorers render in JupyterLab 4, and Chapter 2's ipywidgets explorer works
there in a live kernel.

Opt-in: these tests start a JupyterLab server, so they are skipped unless
``GENAI_NOTES_LAB_CHECK=1``. JupyterLab is not one of the project's dependencies; the server is
run by ``GENAI_NOTES_LAB_PYTHON`` (default: this interpreter), which needs ``jupyterlab>=4``
for the explorers, and ``ipywidgets`` and the ``genai_notes`` package for the widget test.
For example::

    python3 -m venv /tmp/lab8
    /tmp/lab8/bin/pip install "jupyterlab>=4" "ipywidgets>=8" -e .
    GENAI_NOTES_LAB_CHECK=1 GENAI_NOTES_LAB_PYTHON=/tmp/lab8/bin/python \\
        .venv/bin/python -m pytest -q tests/browser/test_jupyterlab.py

The notebooks are copied to a temporary folder first, so JupyterLab cannot write to them.

1. Each chapter with explorers, opened with its stored outputs and nothing run: every output
   of MIME type ``application/vnd.vegalite.v5+json`` is drawn by JupyterLab's own Vega (as SVG,
   not the ``text/plain`` fallback), and moving the first control of each explorer changes the
   drawing (the Vega bindings work with no kernel).
2. Chapter 2 run in a live kernel up to its ipywidgets cell: typing a text into the widget
   prints its count of tokens and bytes and draws one box per token, and choosing another
   tokenizer changes the caption.

With JupyterLab 3 (for example ``jupyterlab>=3.6,<4``, ``ipywidgets==7.7.1`` and
``jupyterlab_widgets==1.1.1``, for Colab's ipywidgets) only the widget test runs: JupyterLab
3's Vega extension draws only the Vega-Lite v3 and v4 MIME types, so the explorers show their
``text/plain`` line there (see book/setup.md, "Where the explorers run").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _book import CHROMIUM, ROOT, unexpected_errors

pytest.importorskip("playwright.sync_api")

LAB_PYTHON = os.environ.get("GENAI_NOTES_LAB_PYTHON", sys.executable)
MIME = "application/vnd.vegalite.v5+json"
NOTEBOOKS = ROOT / "notebooks"
VEGA_OUTPUT = ".jp-OutputArea-output.jp-RenderedVegaCommon5"
# Off-page font requests that headless Chromium refuses; not a rendering failure.
KNOWN_LAB_ERRORS = ("Access to font at 'about:blank'",)

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("GENAI_NOTES_LAB_CHECK") != "1",
        reason="starts a JupyterLab server: set GENAI_NOTES_LAB_CHECK=1 to run",
    ),
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed"),
]


def explorer_counts() -> dict[str, int]:
    """The number of stored Vega-Lite outputs of each chapter that has any."""
    counts = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        n = sum(MIME in out.get("data", {}) for c in cells for out in c.get("outputs", []))
        if n:
            counts[path.name] = n
    return counts


def run_lab_python(code: str) -> str | None:
    try:
        done = subprocess.run(
            [LAB_PYTHON, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    version = run_lab_python("import jupyterlab; print(jupyterlab.__version__)")
    if version is None:
        pytest.skip(f"no jupyterlab in {LAB_PYTHON} (set GENAI_NOTES_LAB_PYTHON)")
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(NOTEBOOKS, root / "notebooks", ignore=shutil.ignore_patterns(".*"))
    settings = root / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # No "Jupyter news?" pop-up over the outputs.
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = free_port()
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(
        [
            LAB_PYTHON, "-m", "jupyterlab", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={root / 'settings'}",
            f"--LabApp.workspaces_dir={root / 'workspaces'}",
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        yield {"base": base, "root": root, "version": version}
    finally:
        server.terminate()  # shuts its kernels down too
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def open_notebook(page, lab, relpath: str, workspace: str) -> None:
    page.set_viewport_size({"width": 1300, "height": 1000})
    page.goto(f"{lab['base']}/lab/workspaces/{workspace}/tree/{relpath}?reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_timeout(2000)


def scroll_through(page) -> None:
    """JupyterLab 4 draws cells as they come into view: visit the whole notebook."""
    scroller = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
    for _ in range(500):
        at_end = scroller.evaluate(
            "el => { el.scrollTop += el.clientHeight * 0.8;"
            " return el.scrollTop + el.clientHeight >= el.scrollHeight - 2; }"
        )
        page.wait_for_timeout(100)
        if at_end:
            break
    page.wait_for_timeout(1000)


def drawing(output) -> str:
    return output.locator("svg").first.evaluate("svg => svg.outerHTML")


def move_first_control(output) -> str:
    """Move the explorer's first control to another value; return what it did."""
    control = output.locator(".vega-bindings input, .vega-bindings select").first
    kind = control.evaluate("el => el.tagName === 'SELECT' ? 'select' : el.type")
    if kind == "range":
        low, high = (float(control.get_attribute(a)) for a in ("min", "max"))
        target = high if float(control.input_value()) != high else low
        control.fill(f"{target:g}")
        return f"slider to {target:g}"
    if kind == "select":
        values = control.locator("option").evaluate_all("os => os.map(o => o.value)")
        target = next(v for v in values if v != control.input_value())
        control.select_option(target)
        return f"menu to {target!r}"
    if kind == "radio":
        radio = output.locator(".vega-bindings input[type=radio]:not(:checked)").first
        radio.check()
        return "another radio button"
    control.click()
    return f"{kind} clicked"


@pytest.mark.parametrize("name", sorted(explorer_counts()))
def test_explorers_render_from_stored_outputs(lab, page, name):
    if int(lab["version"].split(".")[0]) < 4:
        pytest.skip(f"JupyterLab {lab['version']}: its Vega has no Vega-Lite v5 renderer")
    expected = explorer_counts()[name]
    n_cells = len(json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"])
    open_notebook(page, lab, f"notebooks/{name}", f"t{name[:2]}")
    page.wait_for_function(
        f"document.querySelectorAll('.jp-Notebook .jp-Cell').length === {n_cells}",
        timeout=60_000,
    )
    outputs = page.locator(VEGA_OUTPUT)
    for _ in range(3):  # a slow machine may need another pass to draw every output
        scroll_through(page)
        if outputs.count() == expected:
            break
    assert outputs.count() == expected, (
        f"{name}: JupyterLab {lab['version']} drew {outputs.count()} of the {expected} "
        "Vega-Lite outputs"
    )
    for k in range(expected):
        output = outputs.nth(k)
        output.scroll_into_view_if_needed()
        output.locator("svg").first.wait_for(timeout=20_000)
        assert output.locator("svg path, svg rect, svg text").count() > 0
        before = drawing(output)
        moved = move_first_control(output)
        for _ in range(60):
            if drawing(output) != before:
                break
            page.wait_for_timeout(50)
        else:
            pytest.fail(f"{name}, explorer {k + 1}: the drawing did not change ({moved})")
    errors = [e for e in unexpected_errors(page) if not any(s in e for s in KNOWN_LAB_ERRORS)]
    assert errors == []


def test_chapter2_widget_in_a_live_kernel(lab, page):
    if run_lab_python("import genai_notes, ipywidgets") is None:
        pytest.skip(f"{LAB_PYTHON} lacks genai_notes or ipywidgets for the kernel")
    nb = json.loads((NOTEBOOKS / "02_tokenization.ipynb").read_text(encoding="utf-8"))
    last = next(
        k
        for k, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and "widgets.interact(" in "".join(c["source"])
    )
    nb["cells"] = nb["cells"][: last + 1]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    Path(lab["root"], "notebooks", "02_upto_widget.ipynb").write_text(json.dumps(nb))

    open_notebook(page, lab, "notebooks/02_upto_widget.ipynb", "twidget")
    page.wait_for_timeout(3000)  # the kernel starts
    page.locator("li.lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
    area = page.locator(".jp-OutputArea-output", has=page.locator(".widget-interact")).first
    box = area.locator(".widget-text input")
    box.wait_for(timeout=400_000)
    area.scroll_into_view_if_needed()

    text = "the queen eats 42 pizzas ."
    box.fill(text)
    box.press("Enter")
    n_bytes = len(text.encode("utf-8"))
    caption = re.compile(rf"BPE: (\d+) tokens? for {n_bytes} bytes")
    for _ in range(100):
        found = caption.search(area.inner_text())
        if found:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"no caption for the typed text in: {area.inner_text()!r}")
    # One box per token, each holding its id in a <sub>.
    assert area.locator("span:has(sub)").count() == int(found.group(1))

    area.locator("select").first.select_option("characters")
    for _ in range(100):
        if "characters:" in area.inner_text():
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"choosing 'characters' did not change the caption: {area.inner_text()!r}")
    errors = [e for e in unexpected_errors(page) if not any(s in e for s in KNOWN_LAB_ERRORS)]
    assert errors == []
