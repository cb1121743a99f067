"""`ottla completion bash|zsh|fish`: the shell code that completes `ottla`'s nouns, verbs and flags.

argcomplete does the completing: the shell calls `ottla` with _ARGCOMPLETE set, gateway/cli.py hands
its full parser to argcomplete, and nothing else runs. Install once:

    eval "$(ottla completion bash)"        # in ~/.bashrc (zsh: ~/.zshrc with `ottla completion zsh`)
    ottla completion fish > ~/.config/fish/completions/ottla.fish
"""

from __future__ import annotations

from gateway.tools import _client


def register(commands) -> None:
    p = _client.add_verb(commands, "completion", "print the shell code completing ottla (eval it in your shell rc)",
                         run, client=False)
    p.add_argument("shell", choices=("bash", "zsh", "fish"))


def run(args) -> int:
    import argcomplete

    print(argcomplete.shellcode(["ottla"], shell=args.shell))
    return 0
