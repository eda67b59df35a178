"""Does the quickstart fit in Binder's 2 GB? (A benchmark, not a test.)

    python benchmarks/bench_binder_memory.py                       # quickstart, 2 GB limit
    python benchmarks/bench_binder_memory.py --notebook notebooks/10_how_video_diffusion_works.ipynb
    python benchmarks/bench_binder_memory.py --limit-mb 1024 --json out.json

A Binder session is one container with a memory limit (2 GB on mybinder.org) holding the
Jupyter server and the notebook's kernel; the browser runs on the user's machine. This
script rebuilds that here:

  * a memory cgroup with the limit (cgroup v2 `memory.max`, or v1
    `memory.limit_in_bytes`; needs root). Where none can be made, nothing is enforced
    and the report says so — the sampled peaks below are still measured;
  * inside it, an idle `jupyter lab` server and the notebook executed top to bottom by
    nbclient in a real kernel (one torch thread, offline, in a temporary folder);
  * every 0.1 s, the memory of each process is read from /proc, per role: kernel, server,
    and the nbclient driver (which stands in for the browser: not part of a Binder session).

Reported: whether the notebook finished under the limit (and any OOM kill); the peak
resident memory (RSS high-water mark, VmHWM, exact) of the kernel and of the server; the
peak of kernel + server + their children (ffmpeg) at the same moment, as proportional set
size (PSS, sampled): shared pages — torch's libraries, a fork's copy-on-write pages —
counted once, which is what the container holds; and the cgroup's peak charge
(anonymous memory plus page cache this cgroup read first: on a machine that has already
cached torch it reads lower than in a fresh Binder container).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024

DRIVER = """
import sys, nbformat, nbclient
nb = nbformat.read(sys.argv[1], as_version=4)
client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                 resources={"metadata": {"path": sys.argv[2]}})
client.execute()
"""


# ---- the memory cgroup ----------------------------------------------------------------------
class MemoryCgroup:
    """A fresh memory cgroup with a limit; `procs` is the file a process joins it through."""

    def __init__(self, limit_bytes: int):
        self.path: Path | None = None
        self.version = None
        self.note = ""
        name = f"runway_nb_binder_{os.getpid()}"
        v2 = Path("/sys/fs/cgroup")
        v1 = Path("/sys/fs/cgroup/memory")
        try:
            if (v2 / "cgroup.controllers").is_file() and "memory" in (v2 / "cgroup.controllers").read_text():
                self.path, self.version = v2 / name, 2
                self.path.mkdir()
                (self.path / "memory.max").write_text(str(limit_bytes))
                (self.path / "memory.swap.max").write_text("0")
            elif (v1 / "memory.limit_in_bytes").is_file():
                self.path, self.version = v1 / name, 1
                self.path.mkdir()
                (self.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
            else:
                self.note = "no memory cgroup controller on this machine"
        except OSError as exc:
            self.note = f"could not create a memory cgroup ({exc.strerror}; root is needed)"
            self.path = None

    @property
    def active(self) -> bool:
        return self.path is not None

    def join(self) -> None:
        """Called in the child between fork and exec: the workload and its children join."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def peak_bytes(self) -> int | None:
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            f = self.path / name if self.path else None
            if f is not None and f.is_file():
                return int(f.read_text())
        return None

    def oom_kills(self) -> int:
        if self.path is None:
            return 0
        events = self.path / ("memory.events" if self.version == 2 else "memory.oom_control")
        for line in events.read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self) -> None:
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass


# ---- sampling /proc ---------------------------------------------------------------------------
def _status_kb(pid: int, field: str) -> int:
    """A `field:  N kB` line of /proc/PID/status, in bytes (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _pss(pid: int) -> int:
    """Proportional set size: pages shared with other processes (libraries, a fork's
    copy-on-write pages) count as a share, so summing processes never counts one twice."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    kids = []
    for tid in tasks:
        try:
            kids += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return kids


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the run ----------------------------------------------------------------------------------
def measure(notebook: Path, limit_mb: int, interval: float, server: bool) -> dict:
    cgroup = MemoryCgroup(limit_mb * MB)
    work = Path(tempfile.mkdtemp(prefix="runway_nb-binder-"))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1",
               TQDM_DISABLE="1", JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), IPYTHONDIR=str(work / "ipython"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    procs: dict[str, subprocess.Popen] = {}
    peaks = dict.fromkeys(("kernel", "server", "driver", "binder"), 0)
    started = time.monotonic()
    try:
        if server:
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                   f"--port={_free_port()}", f"--IdentityProvider.token={secrets.token_hex(16)}",
                   f"--ServerApp.root_dir={work}"]
            if os.geteuid() == 0:
                cmd.append("--allow-root")
            procs["server"] = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, preexec_fn=cgroup.join)
        procs["driver"] = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(notebook.resolve()), str(work)], env=env, cwd=work,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=cgroup.join)
        driver = procs["driver"]
        while driver.poll() is None:
            kernels = _children(driver.pid)              # the kernel; its own children are ffmpeg
            everyone = [p for k in kernels for p in _tree(k)]
            if "server" in procs:
                everyone += _tree(procs["server"].pid)
                peaks["server"] = max(peaks["server"], _status_kb(procs["server"].pid, "VmHWM"))
            # VmHWM: the kernel's own high-water mark of resident memory (exact, not sampled)
            peaks["kernel"] = max([peaks["kernel"], *(_status_kb(k, "VmHWM") for k in kernels)])
            peaks["driver"] = max(peaks["driver"], _status_kb(driver.pid, "VmHWM"))
            peaks["binder"] = max(peaks["binder"], sum(_pss(p) for p in everyone))
            time.sleep(interval)                          # a sampling period, not a timing
        output = driver.stdout.read().decode(errors="replace")
        return {
            "notebook": str(notebook), "ok": driver.returncode == 0, "returncode": driver.returncode,
            "seconds": round(time.monotonic() - started, 1),
            "limit_mb": limit_mb if cgroup.active else None,
            "limit_note": cgroup.note or f"cgroup v{cgroup.version} memory limit {limit_mb} MB",
            "oom_kills": cgroup.oom_kills(),
            "peak_rss_mb": {k: round(peaks[k] / MB) for k in ("kernel", "server", "driver")},
            "peak_together_pss_mb": round(peaks["binder"] / MB),     # kernel + server + children
            "cgroup_peak_mb": None if cgroup.peak_bytes() is None else round(cgroup.peak_bytes() / MB),
            "error_tail": "" if driver.returncode == 0 else output[-2000:],
        }
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        cgroup.remove()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", type=Path, default=ROOT / "notebooks" / "00_quickstart.ipynb")
    ap.add_argument("--limit-mb", type=int, default=2048, help="memory limit (Binder: 2048)")
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between /proc samples")
    ap.add_argument("--no-server", action="store_true", help="kernel only, no jupyter lab server")
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args(argv)
    r = measure(args.notebook, args.limit_mb, args.interval, server=not args.no_server)
    peaks = r["peak_rss_mb"]
    print(f"notebook        {r['notebook']}")
    print(f"limit           {r['limit_note']}")
    print(f"finished        {'yes' if r['ok'] else 'NO (exit ' + str(r['returncode']) + ')'} "
          f"in {r['seconds']} s; OOM kills: {r['oom_kills']}")
    print(f"peak RSS        kernel {peaks['kernel']} MB · server {peaks['server']} MB "
          f"(driver, not part of Binder: {peaks['driver']} MB)")
    print(f"peak together   kernel + server + their children: {r['peak_together_pss_mb']} MB (PSS, sampled)")
    if r["cgroup_peak_mb"] is not None:
        print(f"cgroup peak     {r['cgroup_peak_mb']} MB (what the limit was charged; see the notes above)")
    if not r["ok"]:
        print(r["error_tail"], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
