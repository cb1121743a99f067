"""Running a parsed verb: its exit code, a CliError as one line, Ctrl-C as 130, a closed pipe as quiet."""

from __future__ import annotations

import os
import sys

from gateway.tools._output import INTERRUPTED, CliError, report_error


def run_verb(args) -> int:
    func = getattr(args, "func", None)
    if func is None:  # a noun without its verb: argparse's required subparsers already refuse this
        return 2
    try:
        return func(args) or 0
    except CliError as error:
        return report_error(error, json_mode=getattr(args, "output", "table") == "json")
    except KeyboardInterrupt:
        print("ottla: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `ottla consume ... | head`: the reader left; say nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
