"""The request pipeline of a SASL listener's connection: `RequestPipeline` plus its `SaslSession`.

A subclass, so that a PLAINTEXT or SSL connection pays nothing per request for SASL. It adds:
- the gate: a request the session does not admit (anything but ApiVersions/SaslHandshake before
  authentication, anything but SaslAuthenticate during it, anything but SaslHandshake once the
  session expired) closes the connection, as Kafka does;
- bare tokens after a v0 handshake, answered with bare frames (no Kafka header);
- frames before authentication are at most `MAX_RECEIVE_SIZE` (Kafka's sasl.server.max.receive.size);
- after a failed handshake or authentication, the connection closes 100 ms after its answer is written
  (Kafka's connection.failed.authentication.delay.ms), reading nothing meanwhile.
"""

from __future__ import annotations

from gateway.clock import now_ms
from gateway.pipeline import RequestPipeline, _Slot
from gateway.security.sasl import MAX_RECEIVE_SIZE, SaslSession
from wire.frames import frame

FAILED_AUTHENTICATION_DELAY_S = 0.1  # Kafka's connection.failed.authentication.delay.ms (100)


class SaslPipeline(RequestPipeline):
    def __init__(self, broker, transport, **kwargs) -> None:
        super().__init__(broker, transport, **kwargs)
        config = broker.config
        self.sasl = SaslSession(broker.credentials, config.sasl_enabled_mechanisms, config.connections_max_reauth_ms,
                                now_ms, self._authenticated)
        self._max_request_size = self.decoder.max_size
        self.decoder.max_size = min(self._max_request_size, MAX_RECEIVE_SIZE)
        self._closing = False

    def _authenticated(self, principal: str) -> None:
        self.principal = principal
        self.decoder.max_size = self._max_request_size
        self.log = self.log.bind(principal=principal)

    def authorize(self, ctx, reg) -> bool:
        session = self.sasl
        if not session.admits(ctx.api_key):
            self.log.warning("sasl_request_refused", client_id=ctx.client_id, api=reg.api.name,
                             api_version=ctx.api_version, sasl_state=session.state,
                             reason="session expired" if session.state == "COMPLETE" else "not authenticated")
            return False
        ctx.sasl = session
        return super().authorize(ctx, reg)

    def _dispatch(self, payload: bytes, reserved: int) -> None:
        session = self.sasl
        if not session.raw:
            super()._dispatch(payload, reserved)
            return
        self.pool.release(reserved)
        response = session.raw_token(payload)
        if response is None:
            self.abort("sasl_authentication_failed", mechanism=session.mechanism, reason=session.failure,
                       handshake_version=0)
            return
        if session.principal is not None:
            self.log.info("sasl_authenticated", mechanism=session.mechanism, principal=session.principal,
                          handshake_version=0)
        slot = _Slot(None, 0)
        slot.payload = (frame(response),)
        slot.size = len(slot.payload[0])
        slot.finished = True
        self._queued_bytes += slot.size
        self.pending.append(slot)
        self._flush()

    def _finish(self, slot, ctx, *args, **kwargs) -> None:
        super()._finish(slot, ctx, *args, **kwargs)
        if self.sasl.failed and not self.closed and not self._closing:
            # the failure's answer goes out at the end of this pump; Kafka closes the connection
            # connection.failed.authentication.delay.ms later, so the client reads it rather than a reset
            self._closing = True
            self._loop.call_later(FAILED_AUTHENTICATION_DELAY_S, self._close_failed)

    def _close_failed(self) -> None:
        if not self.closed:
            self._close()
