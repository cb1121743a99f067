"""The control-API options of `ottla broker|fault|leader` (faults' nouns): `--control URL` (else
$OTTLA_CONTROL) names a running broker's --http-port; the calls go through gateway.faults.client."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from gateway.tools._output import NOT_FOUND, REFUSED, UNREACHABLE, USAGE, CliError


def _options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("control options")
    group.add_argument("--control", metavar="URL", help="the broker's control API, http://HOST:PORT of its "
                       "--http-port (default: $OTTLA_CONTROL)")
    group.add_argument("--output", "-o", choices=("table", "json"), default="table", help="default: table")
    group.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="default: 30")
    return options


CONTROL_OPTIONS = _options()


def add_verb(verbs, name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    parser = verbs.add_parser(name, help=help_text, description=help_text, parents=[CONTROL_OPTIONS])
    parser.set_defaults(func=func)
    return parser


def client(args):
    from gateway.faults.client import ENV_CONTROL, ControlClient, control_url

    url = control_url(args.control)
    if url is None:
        raise CliError(f"no control API: give --control http://HOST:PORT (the broker's --http-port) or set {ENV_CONTROL}",
                       exit_code=USAGE)
    return ControlClient(url, timeout=args.timeout)


def call(function, *args, **kwargs):
    """Run a control call; its failure as a CliError with the right exit code."""
    from gateway.faults.client import ControlError

    try:
        return function(*args, **kwargs)
    except ControlError as error:
        code = {0: UNREACHABLE, 400: USAGE, 404: NOT_FOUND, 408: UNREACHABLE}.get(error.status, REFUSED)
        raise CliError(error.message, exit_code=code) from None
