"""A process that has imported the broker once and forks a fresh broker process per request.

ottla.testing starts one per test session (`python -m ottla._forkserver`), so a new broker costs a
fork and the broker's own start-up rather than a Python start and ~250 ms of imports. Each broker is
a real process: `kill()` is SIGKILL, its RocksDB state is what kill -9 leaves. The server keeps no
threads (fork-safe) and answers JSON lines on stdin/stdout:

    {"op": "start", "argv": [...], "log": PATH, "cwd": DIR}  -> {"pid": N}
    {"op": "wait", "pid": N, "timeout": S}                   -> {"status": exit code | null (still running)}

At end of input (the test session ended) it SIGKILLs whatever brokers it forked and exits; each
broker also dies with it (PR_SET_PDEATHSIG), so no broker outlives its test run.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1


def preload() -> None:
    """Everything a broker imports, paid once here instead of in every broker."""
    import gateway.cli  # noqa: F401
    import gateway.server  # noqa: F401
    from gateway.registry import load_all
    import partitions.rocks  # noqa: F401
    import partitions.memory  # noqa: F401

    load_all()  # every API handler (a broker imports them lazily, on each key's first request)

    for optional in ("uvloop", "aiohttp.web", "gateway.http.server", "gateway.http.app"):
        try:
            __import__(optional)
        except ImportError:
            pass
    try:
        from gateway.http.app import route_modules

        route_modules()
    except Exception:
        pass


def _child(argv: list[str], log_path: str, cwd: str | None) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    os.setpgid(0, 0)  # its own process group: a signal to the test run's group does not reach it twice
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh Python has them; SIGPIPE stays
    # ignored, as Python sets it: a write to a socket the peer closed is an EPIPE, not the broker's death
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    if cwd:
        os.chdir(cwd)
    code = 1
    try:
        from gateway.cli import main

        code = main(argv) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1  # already reaped
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def serve() -> None:
    preload()
    out = sys.stdout
    children: set[int] = set()
    print(json.dumps({"ready": os.getpid()}), file=out, flush=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request["op"] == "start":
                pid = os.fork()
                if pid == 0:
                    _child(request["argv"], request["log"], request.get("cwd"))
                children.add(pid)
                answer = {"pid": pid}
            elif request["op"] == "wait":
                status = _wait(int(request["pid"]), float(request.get("timeout", 0)))
                if status is not None:
                    children.discard(int(request["pid"]))
                answer = {"status": status}
            else:
                answer = {"error": f"unknown op {request['op']!r}"}
        except Exception as exc:  # a bad line must not end the server
            answer = {"error": repr(exc)}
        print(json.dumps(answer), file=out, flush=True)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


if __name__ == "__main__":
    serve()
