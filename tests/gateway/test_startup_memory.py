"""What `ottla serve` does to start lighter: the cyclic GC held back until Server.start has frozen what start-up
loaded (gateway/startup_gc.py), datetime made from _datetime without running datetime.py's Python half
(gateway/c_datetime.py), argparse's help formatters freed without the GC (gateway.cli.HelpFormatter)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref

from gateway import startup_gc


def test_hold_and_release_give_the_gc_back_as_it_was():
    assert gc.isenabled()
    try:
        startup_gc.hold()
        assert not gc.isenabled() and startup_gc.held()
        startup_gc.release()
        assert gc.isenabled() and not startup_gc.held()
        startup_gc.release()  # again: nothing
        assert gc.isenabled()
        gc.disable()  # a caller's own choice is left alone
        startup_gc.hold()
        startup_gc.release()
        assert not gc.isenabled()
    finally:
        gc.enable()


# datetime as datetime.py makes it, against gateway.c_datetime's, each in a fresh interpreter
DESCRIBE = r'''
import json, pickle, sys
if sys.argv[1] == "c":
    from gateway.c_datetime import install
    assert install() is True
import datetime, _datetime
names = sorted(k for k in vars(datetime) if k not in ("__builtins__",))
same = sorted(k for k, v in vars(datetime).items() if not k.startswith("__") and v is vars(_datetime).get(k))
moment = datetime.datetime(2026, 12, 1, 23, 59, 59, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
print(json.dumps({"names": names, "same_as_c": same, "all": list(datetime.__all__), "doc": datetime.__doc__,
                  "file": datetime.__file__, "spec": datetime.__spec__.origin, "loader": type(datetime.__loader__).__name__,
                  "iso": moment.isoformat(), "pickled": pickle.loads(pickle.dumps(moment)) == moment,
                  "utc": datetime.UTC is datetime.timezone.utc, "sys": datetime.sys is sys,
                  "ran": "__builtins__" in vars(datetime)}))  # set by running datetime.py
'''


def _describe(kind: str) -> dict:
    out = subprocess.run([sys.executable, "-c", DESCRIBE, kind], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return json.loads(out)


def test_datetime_from_c_is_the_module_datetime_py_makes():
    real, ours = _describe("py"), _describe("c")
    assert real.pop("ran") is True and ours.pop("ran") is False
    assert ours == real
    assert set(real["same_as_c"]) == {"MAXYEAR", "MINYEAR", "UTC", "date", "datetime", "datetime_CAPI", "time",
                                      "timedelta", "timezone", "tzinfo"}
    assert real["pickled"] is True and real["iso"] == "2026-12-01T23:59:59.123456+01:00"


def test_datetime_from_c_leaves_an_imported_datetime_alone():
    import datetime

    from gateway.c_datetime import install

    assert install() is False and sys.modules["datetime"] is datetime


def test_the_formatter_add_argument_makes_is_freed_without_the_gc_and_help_still_formats():
    import argparse

    from gateway.cli import HelpFormatter, parser

    action = argparse.ArgumentParser().add_argument("--pair", nargs=2, metavar=("A", "B"))
    formatter = HelpFormatter("ottla")
    alive = weakref.ref(formatter)
    assert formatter._format_args(action, None) == "A B"  # what add_argument asks of a new formatter
    del formatter
    assert alive() is None  # freed by reference counting: no cycle through its root section
    serve = parser(tools=False)._subparsers._group_actions[0].choices["serve"]
    assert "--data-dir DATA_DIR" in serve.format_help()


# the real `ottla serve` (gateway.cli.main) in a fresh interpreter: asked after its first Metadata
SERVE = r'''
import gc, json, os, signal, sys, threading
from gateway.cli import main

port = int(sys.argv[2])
report = {"at_start": gc.isenabled()}


def client():
    try:
        from tests.gateway.rawclient import RawClient
        raw = RawClient.once_listening(("127.0.0.1", port))
        report["brokers"] = len(raw.request(3, 1, {"topics": None}).brokers)
        report["gc_enabled"] = gc.isenabled()
        report["frozen"] = gc.get_freeze_count()
        report["datetime_py_ran"] = "__builtins__" in vars(sys.modules["datetime"])
        before = gc.get_stats()[0]["collections"]
        junk = [[] for _ in range(5000)]
        for item in junk:
            item.append(item)  # cycles: automatic collection must find them
        del junk, item
        report["collected_while_serving"] = gc.get_stats()[0]["collections"] > before
        raw.sock.close()
    finally:
        print(json.dumps(report), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=client, daemon=True).start()
sys.exit(main(["serve", "--port", str(port), "--data-dir", sys.argv[1], "--log-level", "warning"]))
'''


def test_ottla_serve_holds_the_gc_during_start_up_only(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path / "data"), str(port)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["at_start"] is True and report["brokers"] == 1
    assert report["gc_enabled"] is True and report["frozen"] > 10_000
    assert report["collected_while_serving"] is True
    assert report["datetime_py_ran"] is False


def test_the_parser_that_told_the_given_flags_parses_again_with_its_defaults():
    from gateway.cli import parser, serve_config

    whole = parser(tools=False)
    argv = ["serve", "--port", "9999"]
    config = serve_config(whole.parse_args(argv), argv, whole)
    assert config.port == 9999 and config.data_dir == "./data"
    again = whole.parse_args(["serve"])  # the same parser: every default as it was
    assert (again.port, again.data_dir, again.set, again.topics) == (9092, "./data", [], [])
