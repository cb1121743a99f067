"""`ottla <noun> <verb>`: the command-line tools, one module per noun.

Contract for a noun module (gateway/tools/<noun>.py; modules starting with "_" are helpers, not nouns):

    def register(commands):            # commands: the top-level argparse subparsers action
        p = commands.add_parser("topics", help="...")
        verbs = p.add_subparsers(dest="verb", required=True)
        v = _options.add_verb(verbs, "list", "list topics", run_list)   # shared client options included
        ...

    def run_list(args) -> int:         # the exit code (see _output.EXIT_CODES); raise CliError to fail
        out = _output.Output(args)
        ...

Modules are found by listing this package, so adding a noun is adding a file; its module is named for the
noun (hyphens as underscores: `share-groups` is share_groups.py), since a command line naming one noun loads
only that module. A noun module imports only
the standard library and the "_" helpers at import time: confluent_kafka and the like are imported inside
the verb's function (gateway.tools._client does it), so `ottla serve` and `ottla --help` stay quick.
"""

from __future__ import annotations

import importlib
import pkgutil


def noun_modules() -> list[str]:
    """The noun modules' names, sorted (helpers starting with "_" and subpackages excluded)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_") and not m.ispkg)


def register_all(commands) -> None:
    for name in noun_modules():
        importlib.import_module(f"{__name__}.{name}").register(commands)


def register_noun(commands, noun: str) -> bool:
    """Only the module of `noun` ("share-groups" is share_groups.py): a command line naming one noun need not
    import and build the others (about 100 ms on the loaded machine for all of them). False if no such module."""
    name = noun.replace("-", "_")
    if name.startswith("_") or name not in noun_modules():
        return False
    importlib.import_module(f"{__name__}.{name}").register(commands)
    return True
