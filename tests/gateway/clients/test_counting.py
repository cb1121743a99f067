"""The registry's two levels: counting (the HTTP server: requests, client id, APIs and versions per
connection, no handler wrapped) and observing (--client-report or --trace: the compatibility report).
With counting only, /v1/clients and `ottla report` say the report is off instead of showing an empty one."""

from __future__ import annotations

import asyncio
import struct
import uuid

import pytest

from gateway.clients import REPORT_OFF
from gateway.config import Config
from wire.codec import decode
from wire.frames import frame
from wire.headers import response_header_size
from wire.messages import APIS
from tests.gateway.test_pipeline import API_VERSIONS, make, metadata, produce, request, run, settle

SOFTWARE = {"client_software_name": "test-client", "client_software_version": "9.9"}
GET_TELEMETRY = 71


def newer_api_versions(correlation_id: int) -> bytes:
    """ApiVersions v99 (a header, then a body Ottla cannot read): answered UNSUPPORTED_VERSION in v0."""
    return frame(struct.pack(">hhih", API_VERSIONS, 99, correlation_id, 13) + b"pipeline-test" + b"\x00")


def counted():
    broker, transport, pipeline = make()
    broker.logs.create_topic("t", 1)
    broker.clients.count()
    return broker, transport, pipeline


def test_counting_fills_the_connection_entry_and_observes_nothing():
    async def main():
        broker, transport, pipeline = counted()
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1) + metadata(2) + metadata(3)
                              + produce("t", b"v", 4) + newer_api_versions(5))
        await settle()
        assert [c for c, _ in transport.frames()] == [1, 2, 3, 4, 5]  # 5: UNSUPPORTED_VERSION, answered in v0
        assert broker.clients.observer is None and broker.clients.report() is None
        assert not broker.clients.report_enabled
        [entry] = broker.clients.entries()
        assert (entry["client_id"], entry["software_name"], entry["requests"]) == ("pipeline-test", "test-client", 5)
        assert entry["apis"] == {"ApiVersions": [3, 99], "Metadata": [9], "Produce": [9]}
    run(main())


def test_observing_counts_each_request_once():
    async def main():
        broker, transport, pipeline = counted()
        broker.clients.observe()
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1) + metadata(2))
        await settle()
        [entry] = broker.clients.entries()
        assert (entry["requests"], entry["apis"]) == (2, {"ApiVersions": [3], "Metadata": [9]})
        assert broker.clients.report()["requests"] == 2
    run(main())


def test_a_connection_s_kip_714_instance_is_noted_without_observing():
    async def main():
        broker, transport, pipeline = counted()
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1)
                              + request(GET_TELEMETRY, 0, {"client_instance_id": bytes(16)}, 2))
        await settle()
        [_, (_, payload)] = transport.frames()
        answer = decode(APIS[GET_TELEMETRY].response, 0, payload, response_header_size(GET_TELEMETRY, 0))
        instance = answer.client_instance_id
        assert instance != bytes(16)
        [entry] = broker.clients.entries()
        assert entry["telemetry"]["client_instance_id"] == str(uuid.UUID(bytes=bytes(instance)))
    run(main())


def _clients_app(broker):
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.http.app import build_app

    return TestClient(TestServer(build_app(broker)))


def test_v1_clients_says_the_report_is_off_and_report_md_is_404():
    pytest.importorskip("aiohttp")

    async def main():
        broker, transport, pipeline = counted()
        pipeline.receive_data(request(API_VERSIONS, 3, SOFTWARE, 1))
        await settle()
        async with _clients_app(broker) as client:
            answer = await (await client.get("/v1/clients")).json()
            markdown = await client.get("/v1/clients/report.md")
            assert markdown.status == 404
            text = await markdown.text()
        assert (answer["report_enabled"], answer["report"], answer["report_off"]) == (False, None, REPORT_OFF)
        assert "--client-report" in answer["report_off"] and "Off: " in text and "--client-report" in text
        assert [c["software_name"] for c in answer["connections"]] == ["test-client"]
        broker.clients.observe()
        async with _clients_app(broker) as client:
            answer = await (await client.get("/v1/clients")).json()
        assert (answer["report_enabled"], answer["report_off"]) == (True, None)
        assert answer["report"]["requests"] == 0  # observed since observe(): nothing yet
    run(main())


def test_ottla_report_control_says_the_report_is_off(capsys):
    pytest.importorskip("aiohttp")
    from gateway.tools import _output
    from gateway.tools.report import run_report

    async def main():
        broker, _, _ = counted()
        async with _clients_app(broker) as client:
            url = str(client.make_url("/"))
            args = type("Args", (), {"trace": None, "control": url, "output": "markdown", "timeout": 10})()
            with pytest.raises(_output.CliError) as refused:
                await asyncio.get_running_loop().run_in_executor(None, run_report, args)
        assert "the compatibility report is off" in refused.value.message
        assert "--client-report" in refused.value.message
        assert capsys.readouterr().out == ""  # no empty report printed
    run(main())


def test_client_report_without_http_port_is_refused_before_start(capsys):
    from gateway.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--memory", "--client-report"])
    assert exited.value.code == 2
    assert "--client-report needs --http-port" in capsys.readouterr().err


@pytest.mark.parametrize("flags, counting, observing", [
    ({}, False, False),
    ({"http_port": 0}, True, False),
    ({"http_port": 0, "client_report": True}, True, True),
])
def test_what_the_server_turns_on(flags, counting, observing):
    pytest.importorskip("aiohttp")
    from gateway.server import Server

    async def main():
        server = Server(Config(memory=True, port=0, **flags))
        await server.start()
        try:
            assert (server.broker.clients.counting, server.broker.clients.observer is not None) == (counting, observing)
        finally:
            await server.shutdown()
    run(main())
