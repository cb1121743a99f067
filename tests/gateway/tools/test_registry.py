"""The tools' registry and helpers: noun discovery, shared options, tables, errors, exit codes, start-up."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from gateway import cli
from gateway.tools import _client, _output, noun_modules


def parse(*argv):
    return cli._tools_parser().parse_args(list(argv))


def test_every_noun_module_registers_and_helpers_are_not_nouns():
    names = noun_modules()
    assert "topics" in names and "share_groups" in names
    assert not [n for n in names if n.startswith("_")]
    choices = cli._tools_parser()._subparsers._group_actions[0].choices
    assert {"serve", "topics", "share-groups"} <= set(choices)


def test_shared_options_on_every_client_verb(monkeypatch):
    monkeypatch.delenv(_client.ENV_BOOTSTRAP, raising=False)
    args = parse("topics", "list", "--bootstrap-server", "h:1", "--output", "json", "--timeout", "3")
    assert (args.bootstrap_server, args.output, args.timeout) == ("h:1", "json", 3.0)
    assert _client.client_config(args)["bootstrap.servers"] == "h:1"
    assert _client.client_config(parse("topics", "list"))["bootstrap.servers"] == _client.DEFAULT_BOOTSTRAP
    monkeypatch.setenv(_client.ENV_BOOTSTRAP, "env:2")
    assert _client.client_config(parse("topics", "list"))["bootstrap.servers"] == "env:2"
    assert _client.client_config(parse("topics", "list", "--bootstrap-server", "flag:3"))["bootstrap.servers"] == \
        "flag:3"


def test_command_config_in_kafkas_client_format(tmp_path, monkeypatch):
    monkeypatch.delenv(_client.ENV_BOOTSTRAP, raising=False)
    (tmp_path / "pem").write_text("")
    path = tmp_path / "client.properties"
    path.write_text("# a Kafka client config\nbootstrap.servers=file:4\nsecurity.protocol=SASL_SSL\n"
                    "sasl.mechanism=SCRAM-SHA-256\n"
                    'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n'
                    '    username="alice" password="s3cr=t";\n'
                    f"ssl.truststore.type=PEM\nssl.truststore.location={tmp_path / 'pem'}\n"
                    "ssl.endpoint.identification.algorithm=\nkey.deserializer=org.Foo\n")
    config = _client.client_config(parse("topics", "list", "--command-config", str(path)))
    assert config["bootstrap.servers"] == "file:4"
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.mechanism"] == "SCRAM-SHA-256"
    assert (config["sasl.username"], config["sasl.password"]) == ("alice", "s3cr=t")
    assert config["ssl.ca.location"] == str(tmp_path / "pem")
    assert config["ssl.endpoint.identification.algorithm"] == "none"
    assert "sasl.jaas.config" not in config and "key.deserializer" not in config
    path.write_text("ssl.truststore.location=/x.jks\n")
    with pytest.raises(_output.CliError) as raised:
        _client.client_config(parse("topics", "list", "--command-config", str(path)))
    assert raised.value.exit_code == _output.USAGE


def test_table_aligns_and_right_aligns_numbers():
    lines = _output.format_table([{"name": "a", "n": 5}, {"name": "long-name", "n": 12345}], ["name", "n"])
    assert lines == ["NAME           N", "a              5", "long-name  12345"]
    assert _output.format_table([{"x": None, "y": [1, 2]}], ["x", "y"])[1] == "-  1,2"


def test_exit_codes_follow_kafkas_error_names():
    assert _output.exit_code_for("UNKNOWN_TOPIC_OR_PARTITION") == _output.NOT_FOUND
    assert _output.exit_code_for("GROUP_ID_NOT_FOUND") == _output.NOT_FOUND
    assert _output.exit_code_for("TOPIC_AUTHORIZATION_FAILED") == _output.NOT_ALLOWED
    assert _output.exit_code_for("SASL_AUTHENTICATION_FAILED") == _output.NOT_ALLOWED
    assert _output.exit_code_for("_TRANSPORT") == _output.UNREACHABLE
    assert _output.exit_code_for("TOPIC_ALREADY_EXISTS") == _output.REFUSED
    assert _output.kafka_error_name(3, "UNKNOWN_TOPIC_OR_PART") == "UNKNOWN_TOPIC_OR_PARTITION"
    assert _output.kafka_error_name(-195, "_TRANSPORT") == "_TRANSPORT"


def test_error_is_one_line_with_the_name(capsys):
    code = _output.report_error(_output.CliError("Topic 'x' already exists.", name="TOPIC_ALREADY_EXISTS"))
    assert code == _output.REFUSED
    assert capsys.readouterr().err == "ottla: TOPIC_ALREADY_EXISTS: Topic 'x' already exists.\n"
    _output.report_error(_output.CliError("gone", name="GROUP_ID_NOT_FOUND"), json_mode=True)
    assert json.loads(capsys.readouterr().err) == {"error": "GROUP_ID_NOT_FOUND", "message": "gone", "exit_code": 4}


def test_colour_only_on_a_tty(monkeypatch):
    class Tty:
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert _output.paint("x", "red", Tty()) == "\033[31mx\033[0m"
    assert _output.paint("x", "red", sys.stderr if not sys.stderr.isatty() else None) in ("x", "\033[31mx\033[0m")
    monkeypatch.setenv("NO_COLOR", "1")
    assert _output.paint("x", "red", Tty()) == "x"


def loaded_after_parsing(noun: str | None, wanted: str) -> str:
    """What a fresh interpreter has imported after parsing `ottla topics list` (`wanted`: a Python expression
    over `sys.modules` printed as the answer)."""
    code = (f"import sys; from gateway import cli; from gateway.tools import noun_modules; "
            f"cli._tools_parser({noun!r}).parse_args(['topics', 'list']); print({wanted})")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_tools_do_not_load_the_broker_or_the_client_at_parse_time():
    assert loaded_after_parsing(None, "sorted(m for m in sys.modules if m.split('.')[0] in ('confluent_kafka', "
                                      "'structlog', 'partitions') or m in ('gateway.config', 'gateway.server'))") == "[]"


def test_serve_parser_keeps_its_flags_without_the_tools():
    args = cli.parser(tools=False).parse_args(["serve", "--port", "1234", "--memory"])
    assert (args.command, args.port, args.memory) == ("serve", 1234, True)
    assert isinstance(cli.parser(), argparse.ArgumentParser)


def test_usage_errors_exit_2():
    run = subprocess.run([sys.executable, "-m", "gateway", "topics", "alter", "t", "--bootstrap-server", "127.0.0.1:1"],
                         capture_output=True, text=True)
    assert run.returncode == _output.USAGE and run.stderr.startswith("ottla: nothing to alter")
    run = subprocess.run([sys.executable, "-m", "gateway", "topics", "frobnicate"], capture_output=True, text=True)
    assert run.returncode == 2


def test_unreachable_cluster_exits_3():
    run = subprocess.run([sys.executable, "-m", "gateway", "topics", "list", "--bootstrap-server", "127.0.0.1:1",
                          "--timeout", "5"], capture_output=True, text=True)
    assert run.returncode == _output.UNREACHABLE, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("ottla: _")


def complete(line: str, tmp_path) -> list[str]:
    """What the shell would be offered for `line` (argcomplete's protocol: env in, words in a file out)."""
    out = tmp_path / "completions"
    env = dict(__import__("os").environ, _ARGCOMPLETE="1", _ARGCOMPLETE_IFS="\n", COMP_LINE=line,
               COMP_POINT=str(len(line)), _ARGCOMPLETE_STDOUT_FILENAME=str(out), COMP_TYPE="9")
    subprocess.run([sys.executable, "-m", "gateway"], env=env, capture_output=True, timeout=60)
    return [w.strip() for w in out.read_text().split("\n")] if out.exists() else []


def test_shell_completion_offers_nouns_verbs_and_flags(tmp_path):
    assert {"topics", "produce", "consume", "groups", "serve"} <= set(complete("ottla ", tmp_path))
    assert set(complete("ottla groups ", tmp_path)) >= {"list", "describe", "reset-offsets", "delete"}
    assert "--to-earliest" in complete("ottla groups reset-offsets g --to-e", tmp_path)
    assert "--bootstrap-server" in complete("ottla topics list --boot", tmp_path)
    for shell in ("bash", "zsh", "fish"):
        code = subprocess.run([sys.executable, "-m", "gateway", "completion", shell], capture_output=True, text=True)
        assert code.returncode == 0 and "ottla" in code.stdout and "_ARGCOMPLETE" in code.stdout


def test_a_command_line_loads_only_its_nouns_module():
    assert loaded_after_parsing("topics", "sorted(n for n in noun_modules() if 'gateway.tools.' + n in "
                                          "sys.modules)") == "['topics']"
    assert cli._tools_parser("share-groups").parse_args(["share-groups", "list"]).verb == "list"
    with pytest.raises(SystemExit):  # an unknown noun gets argparse's list of every choice
        cli._tools_parser("nope").parse_args(["nope"])
