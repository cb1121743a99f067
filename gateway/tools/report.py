"""`ottla report`: the per-client compatibility report as Markdown (or JSON), from a running broker's
HTTP server (GET /v1/clients, at --control URL or $OTTLA_CONTROL) or from a trace file (--trace FILE,
what `ottla serve --trace FILE` wrote; FILE.1 is read first when the trace rotated)."""

from __future__ import annotations

import json
import os
import sys

from gateway.tools import _output

ENV_CONTROL = "OTTLA_CONTROL"


def register(commands) -> None:
    p = commands.add_parser("report", help="the per-client compatibility report (Markdown)",
                            description="The per-client compatibility report: for each client software and "
                                        "version seen, the APIs and versions it used, the features it exercised, "
                                        "the errors it was answered and what Ottla refused.")
    p.set_defaults(func=run_report)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--trace", metavar="FILE", help="build it from this trace file (ottla serve --trace FILE)")
    source.add_argument("--control", metavar="URL", help=f"a broker's HTTP server, e.g. http://127.0.0.1:8080 "
                        f"(default ${ENV_CONTROL}); the broker must run with --http-port")
    p.add_argument("--output", "-o", choices=("markdown", "json"), default="markdown", help="default: markdown")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="for --control (default: 30)")


def run_report(args) -> int:
    from gateway.report import from_trace_files, to_markdown

    if args.trace:
        try:
            compat = from_trace_files(args.trace)
        except OSError as error:
            raise _output.usage(f"cannot read --trace {args.trace}: {error}") from None
        report, source = compat.report(), f"trace {args.trace}"
        if compat.skipped:
            print(f"ottla: {compat.skipped} line(s) of {args.trace} were not trace lines (skipped)", file=sys.stderr)
    else:
        url = args.control or os.environ.get(ENV_CONTROL)
        if not url:
            raise _output.usage(f"give --trace FILE, or --control URL (or set ${ENV_CONTROL})")
        answer, source = _fetch(url.rstrip("/") + "/v1/clients", args.timeout), url
        report = answer["report"]
        if report is None:
            why = answer.get("report_off") or "it observes no requests"
            raise _output.CliError(f"{url}: {why}")
    if args.output == "json":
        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(to_markdown(report, source))
    return _output.OK


def _fetch(url: str, timeout: float):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            answer = json.loads(response.read())
        if not isinstance(answer, dict) or "report" not in answer:  # (null when the report is off)
            raise ValueError("no report field")
        return answer
    except urllib.error.HTTPError as error:
        raise _output.CliError(f"{url}: HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise _output.CliError(f"{url}: {getattr(error, 'reason', error)}", exit_code=_output.UNREACHABLE) from None
    except (ValueError, KeyError) as error:
        raise _output.CliError(f"{url}: not a /v1/clients answer ({error})") from None
