"""The Studio in a real browser: Debian's chromium, driven by Playwright, on a real JupyterLab.

What a new user does, checked in the DOM:

1. open the quickstart (a copy of notebooks/00_quickstart.ipynb) and run all of it —
   it ends with `studio = rn.Studio()`, which renders (no "Loading widget…", no "Error
   displaying widget") with every control fully visible: no label cut into "…", no box
   cut off at a column's edge;
2. type a prompt and click Generate — the live preview image changes while it
   denoises, then the player's `<video>` has a duration > 0;
3. drag on the Studio's camera pad — the kernel-side CameraPath changes (read back by
   running a READBACK cell the test appends to its copy of the quickstart); then switch
   to the brush pad, paint a region and drag its motion arrow to the right — the kernel
   holds one brush moving right, and "clear" empties the pad again; back on the camera
   pad, "export" writes the path as Deforum schedules and a pasted one is imported;
4. click Cancel during a long render — it stops before its last step, and the kernel
   still answers; then Extend — the clip in the player grows by the seconds typed, and
   the kernel holds both clips;
5. narrow the window — the Studio's columns and rows wrap, and every control is still
   fully visible.

The test finds the Studio's parts by the CSS classes the Studio sets itself
(`rn-generate`, `rn-preview`, …; listed in `Studio`'s docstring), as a user's CSS would.

Nothing is downloaded: the browser is the system `chromium` (`apt-get install
chromium`; scripts/setup does it for the `browser` extra), never `playwright install`.
Without chromium or playwright the test skips, except in CI (`CI=true`), where it fails.

Screenshots of each stage go to `$RUNWAY_NB_ARTIFACTS` (default: a fresh temporary
folder, printed when the test starts); nothing is written into the repository unless
that variable points there. JupyterLab runs on a free loopback port with a random token
in a temporary root folder, and is stopped — with its kernel — however the test ends.

One browser session, and every wait is on a DOM condition with a generous timeout
(JupyterLab plus chromium plus a render on a shared 2-core machine is slow), never a
fixed sleep.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_S = 180        # JupyterLab's first start builds its caches: slow on 2 busy cores
# the longest wait for one DOM condition (kernel start + torch import + engine load, a render);
# RUNWAY_NB_BROWSER_TIMEOUT_S raises it on a slower machine
WAIT_MS = int(float(os.environ.get("RUNWAY_NB_BROWSER_TIMEOUT_S", 240)) * 1000)
QUICKSTART = ROOT / "notebooks" / "00_quickstart.ipynb"
NOTEBOOK = QUICKSTART.name          # the copy keeps the name a user sees
WIDE, NARROW = 1200, 760            # viewport widths: a typical laptop window, a narrow one

# Appended to the copy of the quickstart: prints what the kernel holds right now.
READBACK = (
    "# READBACK (appended by tests/test_browser.py): what the kernel holds right now\n"
    "import json as _json\n"
    "print('camera:', _json.dumps(studio.camera_pad.path.to_dict(), sort_keys=True))\n"
    "print('brushes:', _json.dumps([studio.brush_pad.logic.motion(i)\n"
    "                              for i in range(len(studio.brush_pad.logic.items))]))\n"
    "print('outcome:', studio.renderer.outcome, '| clips:', len(studio.clips))")

# Every control inside `root` must be fully visible: a button or label whose text is
# wider than its box (ellipsis), a text box whose value does not fit, or a control
# sticking out of the Studio, its cell output or any box that hides overflow, is
# reported. Controls not shown (display: none, a closed accordion) are skipped.
CLIPPED_CONTROLS = """root => {
  const problems = [];
  const label = el => {
    const text = (el.innerText || el.value || el.title || el.tagName).toString().trim().slice(0, 30);
    const part = el.closest('[class*="rn-"]');
    const css = part ? [...part.classList].filter(c => c.startsWith('rn-')).join(' ') : '';
    return `"${text}" (${el.tagName.toLowerCase()} in .${css})`;
  };
  const output = root.closest('.jp-OutputArea-output') || root.parentElement;
  const sel = 'button, input, select, textarea, canvas, img, video, .widget-slider, .widget-label, .widget-html';
  for (const el of root.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.tagName === 'BUTTON' || el.classList.contains('widget-label')) {
      // a label cut into "…": the box is narrower than its content would make it
      // (scrollWidth does not see it inside a <button>, so measure the natural width)
      const saved = el.style.cssText;
      el.style.cssText += ';width:max-content;min-width:0;max-width:none;flex:none';
      const natural = el.getBoundingClientRect().width;
      el.style.cssText = saved;
      if (natural > r.width + 1)
        problems.push(`${label(el)}: label cut short (${Math.round(r.width)} of ${Math.round(natural)} px)`);
    } else if (el.tagName === 'INPUT' && /^(text|number)$/.test(el.type) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${label(el)}: value cut short (${el.scrollWidth} px in ${el.clientWidth} px)`);
    }
    for (let a = el.parentElement; a && a !== output.parentElement; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (a !== root && a !== output && cs.overflowX === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (r.left < b.left - 1 || r.right > b.right + 1) {
        problems.push(`${label(el)}: x ${Math.round(r.left)}–${Math.round(r.right)} is outside ` +
                      `${Math.round(b.left)}–${Math.round(b.right)} of ${a.className.slice(0, 50)}`);
        break;
      }
    }
  }
  return problems;
}"""

# Each image the preview shows is hashed once it has loaded (its pixels, not its blob URL).
RECORD_PREVIEWS = """() => {
  const img = document.querySelector('.rn-preview');
  window.__rnPreviews = [];
  img.addEventListener('load', () => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < px.length; i += 7) h = (h * 31 + px[i]) >>> 0;
    window.__rnPreviews.push(h);
  });
}"""


# ---- environment ---------------------------------------------------------------------------
def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}. In CI the browser test must run: `bash scripts/setup` installs "
                    "chromium (apt) and playwright (the browser extra).")
    pytest.skip(reason)


@pytest.fixture
def chromium() -> str:
    """The system chromium's path (RUNWAY_NB_CHROMIUM overrides), checked before anything starts."""
    path = os.environ.get("RUNWAY_NB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.access(path, os.X_OK):
        _unavailable(f"Debian's chromium is not installed ({path or 'not on PATH'}; apt-get install chromium)")
    for module in ("playwright", "jupyterlab", "nbformat", "ipycanvas"):
        if importlib.util.find_spec(module) is None:
            _unavailable(f"the python package {module!r} is missing (pip install -e '.[browser,notebook]')")
    return path


@pytest.fixture
def artifacts(capsys) -> Path:
    folder = os.environ.get("RUNWAY_NB_ARTIFACTS")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="runway_nb-browser-"))
    folder.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\n[test_browser] screenshots: {folder}")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_quickstart(path: Path) -> None:
    """The real quickstart, plus one READBACK cell at the end."""
    import nbformat

    nb = nbformat.read(QUICKSTART, as_version=4)
    assert any("rn.Studio(" in c.source for c in nb.cells if c.cell_type == "code"), \
        "the quickstart no longer makes a Studio (`studio = rn.Studio()`): this test drives it"
    nb.cells.append(nbformat.v4.new_code_cell(READBACK))
    nbformat.write(nb, path)


@pytest.fixture
def jupyter_lab(tmp_path, shipped_weights):
    """A JupyterLab server on a free loopback port: yields its notebook URL; always stopped."""
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    user_settings = {
        # every cell stays in the DOM (no virtual scrolling), so the test can find each one
        "notebook-extension/tracker": {"windowingMode": "none"},
        # no "get Jupyter news?" toast over the page (and no request for it)
        "apputils-extension/notification": {"fetchNews": "false"},
    }
    for name, values in user_settings.items():
        path = home / "settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    _copy_quickstart(root / NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1",
               TQDM_DISABLE="1", JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               IPYTHONDIR=str(home / "ipython"),
               # the kernel imports this checkout even when it was not pip-installed
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={home / 'settings'}",
           f"--LabApp.workspaces_dir={home / 'workspaces'}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyter.log", "wb")
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        _wait_for_server(server, port, token, tmp_path / "jupyter.log")
        yield f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}"
    finally:
        _stop(server)
        log.close()


def _wait_for_server(server, port, token, log_path):
    import time

    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"jupyter lab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5):
                return
        except OSError:
            try:
                server.wait(0.5)          # wakes at once if the server dies while we poll
            except subprocess.TimeoutExpired:
                pass
    pytest.fail(f"jupyter lab did not answer within {SERVER_START_S} s:\n{log_path.read_text()[-3000:]}")


def _stop(server) -> None:
    """SIGTERM the server (it shuts its kernels down); kill whatever of it is left."""
    try:
        import psutil

        family = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    except Exception:  # noqa: BLE001 - psutil missing or the server already gone
        family = []
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    for proc in family:                       # kernels live in sessions of their own
        try:
            proc.kill()
        except Exception:  # noqa: BLE001 - already exited
            pass


# ---- the page ---------------------------------------------------------------------------------
def _cell(page, marker: str):
    return page.locator(".jp-CodeCell").filter(has_text=marker).first


def _run_cell(page, marker: str) -> str:
    """Run one cell (click into it, Ctrl+Enter) and return its output once it has run."""
    cell = _cell(page, marker)
    prompt = cell.locator(".jp-InputArea-prompt")
    before = prompt.inner_text()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "([el, before]) => { const t = el.innerText.trim(); return t !== before.trim() && /\\[\\d+\\]/.test(t); }",
        arg=[prompt.element_handle(), before], timeout=WAIT_MS)
    return cell.locator(".jp-OutputArea").inner_text()


def _readback(text: str) -> dict:
    camera = re.search(r"camera: (\{.*\})", text)
    brushes = re.search(r"brushes: (\[.*\])", text)
    outcome = re.search(r"outcome: (\S+) \| clips: (\d+)", text)
    assert camera and brushes and outcome, f"the readback cell printed something unexpected:\n{text}"
    return {"camera": json.loads(camera.group(1)), "brushes": json.loads(brushes.group(1)),
            "outcome": outcome.group(1), "clips": int(outcome.group(2))}


def test_studio_in_a_real_browser(chromium, artifacts, jupyter_lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDE, "height": 2000})
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            _drive(page, jupyter_lab, artifacts)
        except BaseException:
            page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
            if errors:
                print("page errors:", *errors, sep="\n  ")
            raise
        finally:
            browser.close()


def _drag(page, box: dict, start: tuple, end: tuple, moves: int) -> None:
    """A mouse drag over `box` between two points given as fractions of its size."""
    x0, y0 = box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"]
    x1, y1 = box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, moves + 1):
        page.mouse.move(x0 + k / moves * (x1 - x0), y0 + k / moves * (y1 - y0))
    page.mouse.up()


def _assert_fully_visible(studio, when: str) -> None:
    problems = studio.evaluate(CLIPPED_CONTROLS)
    assert not problems, f"{when}: Studio controls not fully visible:\n  " + "\n  ".join(problems)


def _shoot(studio, path: Path) -> None:
    """A screenshot of the Studio itself (JupyterLab scrolls inside its notebook panel, so
    a page screenshot would show the quickstart's first cells instead)."""
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(path))


def _drive(page, url: str, shots: Path) -> None:
    # 1. Open the quickstart and run every cell; its Studio renders, every control visible.
    page.goto(url)
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    # "Run All" before the kernel is connected runs nothing: wait for it to be idle first
    page.wait_for_function("() => /\\| Idle/.test(document.body.innerText)")
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    studio = page.locator(".rn-studio")
    generate = studio.locator(".rn-generate")
    readback = _cell(page, "READBACK")
    readback.locator(".jp-OutputArea-output").first.wait_for()   # the last cell ran: all of it did
    generate.wait_for(state="visible")
    notebook = page.locator(".jp-Notebook")
    page.wait_for_function(
        "el => !/Loading widget|Error displaying widget/.test(el.innerText)",
        arg=notebook.element_handle())
    before = _readback(readback.locator(".jp-OutputArea").inner_text())
    assert before["clips"] == 0
    _assert_fully_visible(studio, f"the quickstart's Studio at {WIDE} px")
    _shoot(studio, shots / "01-studio.png")

    # 2. Prompt → Generate: the live preview changes, then the player has a playable video.
    page.evaluate(RECORD_PREVIEWS)
    studio.locator(".rn-prompt textarea").fill("a red circle moving right on a blue background")
    generate.click()
    page.wait_for_function("() => new Set(window.__rnPreviews).size >= 2")
    _shoot(studio, shots / "02-live-preview.png")
    studio.locator(".rn-status", has_text="Made").wait_for()
    page.wait_for_function(
        "el => [...el.querySelectorAll('.rn-player video')].some(v => v.duration > 0)",
        arg=studio.element_handle())
    _assert_fully_visible(studio, f"the Studio with a clip at {WIDE} px")
    _shoot(studio, shots / "03-clip.png")

    # 3. Drag on the Studio's camera pad: the kernel's CameraPath changes.
    pad = studio.locator(".rn-camera-canvas")
    pad.scroll_into_view_if_needed()
    _drag(page, pad.bounding_box(), (0.3, 0.6), (0.7, 0.5), moves=20)     # to the right, a little up
    after = _readback(_run_cell(page, "READBACK"))
    assert after["clips"] == 1 and after["outcome"] == "done"
    assert after["camera"] != before["camera"], "dragging on the camera pad left the kernel's path unchanged"
    _shoot(studio, shots / "04-camera-drawn.png")

    # 3b. The brush pad: paint a region, drag its arrow to the right, then clear the pad.
    assert after["brushes"] == []
    studio.locator(".rn-pad-picker button", has_text="brushes").click()
    canvas = studio.locator(".rn-brush-canvas")
    canvas.wait_for(state="visible")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    _drag(page, box, (0.35, 0.5), (0.45, 0.55), moves=8)               # the default tool paints
    studio.locator(".rn-brush-pad button", has_text="arrow").click()
    _drag(page, box, (0.4, 0.5), (0.8, 0.5), moves=12)                 # its motion: to the right
    painted = _readback(_run_cell(page, "READBACK"))
    assert len(painted["brushes"]) == 1, painted["brushes"]
    horizontal, vertical = painted["brushes"][0]
    assert horizontal > 0.05 and abs(vertical) < 0.5 * horizontal, painted["brushes"]
    _shoot(studio, shots / "04b-brush-drawn.png")
    studio.locator(".rn-brush-pad button", has_text="clear").click()
    cleared = _readback(_run_cell(page, "READBACK"))
    assert cleared["brushes"] == [] and cleared["camera"] == after["camera"], cleared
    studio.locator(".rn-pad-picker button", has_text="camera").click()

    # 3c. Deforum schedules: the drawn path written out as text, then one pasted in.
    schedule = studio.locator(".rn-camera-schedule input")
    studio.locator(".rn-camera-pad button", has_text="export").click()
    page.wait_for_function("el => el.value.startsWith('fps: 15; W: 512; H: 512; max_frames: 31; zoom: 0:(')",
                           arg=schedule.element_handle())              # the run first, then the path
    assert "translation_x: 0:(" in schedule.input_value()
    schedule.fill("fps: 30; zoom: 0:(1.04)")           # Deforum's zoom in, each frame of a 30 fps run
    studio.locator(".rn-camera-pad button", has_text="import").click()
    pasted = _readback(_run_cell(page, "READBACK"))
    zooms = [k.get("zoom", 1.0) for k in pasted["camera"]["keyframes"]]
    assert zooms[-1] > 2 and all(b > a for a, b in zip(zooms, zooms[1:])), pasted["camera"]
    fps_box = studio.locator(".rn-camera-deforum input").first          # the row shows the run read
    page.wait_for_function("el => Number(el.value) === 30", arg=fps_box.element_handle())

    # 4. A long render, cancelled mid-run: it stops early and the kernel still answers.
    seconds = studio.locator(".rn-seconds input")
    seconds.fill("60")
    seconds.press("Enter")
    generate.click()
    progress = studio.locator(".rn-progress-label")
    page.wait_for_function(
        "el => /step [1-9]\\d*\\//.test(el.innerText)", arg=progress.element_handle())
    studio.locator(".rn-cancel").click()
    studio.locator(".rn-status", has_text="Cancelled").wait_for()
    step, total = map(int, re.search(r"cancelled at step (\d+)/(\d+)", progress.inner_text()).groups())
    assert step < total, f"cancelled at step {step} of {total}: the render was not stopped"
    _shoot(studio, shots / "05-cancelled.png")
    final = _readback(_run_cell(page, "READBACK"))
    assert final["outcome"] == "cancelled" and final["clips"] == 1, final

    # 4b. Extend the clip in the player by a second: the longer clip plays, its parent kept.
    seconds.fill("1")
    seconds.press("Enter")
    studio.locator(".rn-extend").click()
    studio.locator(".rn-status", has_text="Extended").wait_for()
    page.wait_for_function("el => /24 frames/.test(el.innerText)",
                           arg=studio.locator(".rn-player").element_handle())     # 16 + 8 frames
    extended = _readback(_run_cell(page, "READBACK"))
    assert extended["outcome"] == "done" and extended["clips"] == 2, extended
    _shoot(studio, shots / "05b-extended.png")

    # 5. A narrow window: the columns stack (results first) and rows wrap; nothing cut off.
    side_by_side = ("el => el.querySelector('.rn-settings').getBoundingClientRect().top"
                    " < el.querySelector('.rn-results').getBoundingClientRect().bottom")
    assert studio.evaluate(side_by_side), f"at {WIDE} px the Studio's two columns should sit side by side"
    page.set_viewport_size({"width": NARROW, "height": 2000})
    page.wait_for_function(f"el => !({side_by_side})(el)", arg=studio.element_handle())
    _assert_fully_visible(studio, f"the Studio at {NARROW} px")
    _shoot(studio, shots / "06-narrow.png")
