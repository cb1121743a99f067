"""SubscribedTopicRegex (KIP-848): Kafka's rules, in a linear-time engine.

Kafka compiles the regex with RE2/J (`com.google.re2j.Pattern`) and matches it against each topic name
as a whole (`matcher(name).matches()`); a regex that does not compile is INVALID_REGULAR_EXPRESSION.
RE2 (the `google-re2` wheel) has the same syntax and the same guarantee: matching is linear in the
name's length whatever the regex, so `(a+)+` cannot backtrack for minutes as Python's `re` does. No
backreferences, no lookaround (RE2/J refuses them too). The compiled program is capped in memory
(RE2's max_mem): a regex too large to compile within it is refused as invalid rather than held.
"""

from __future__ import annotations

from functools import lru_cache

import re2

MAX_PROGRAM_BYTES = 8 << 20  # RE2's default max_mem, stated: a regex over it does not compile

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a client's bad regex is its answer, not a line on the broker's stderr
_OPTIONS.max_mem = MAX_PROGRAM_BYTES


class InvalidRegex(ValueError):
    """The regex does not compile; str() is RE2's description."""


@lru_cache(maxsize=256)
def compile_regex(regex: str):
    """The compiled pattern (use `.fullmatch(name)`), or InvalidRegex."""
    try:
        return re2.compile(regex, _OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        raise InvalidRegex(detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)) from None


def matching(regex: str, names):
    """The names the regex matches as a whole."""
    fullmatch = compile_regex(regex).fullmatch
    return [name for name in names if fullmatch(name) is not None]
