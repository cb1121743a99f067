"""Security: authentication (listeners in gateway/listeners.py, SASL, TLS) and authorization (authorizer, acls).

Authentication:
- `sasl.py` — `SaslSession`, one per connection on a SASL listener: the state machine of Kafka's
  SaslServerAuthenticator (handshake, authenticate, KIP-368 re-authentication, session expiry) and
  the gate "nothing but ApiVersions/SaslHandshake before authentication"; `sasl_pipeline.py` the
  connection pipeline that applies it.
- `plain.py`, `scram.py`, `oauthbearer.py` — the mechanisms' servers, sans-IO: `step(token) -> bytes`,
  raising `SaslFailure` with the message the client is told (`mechanism.py`).
- `credentials.py` — `Credentials`: PLAIN users (--user) and SCRAM credentials (salted, in the state
  store; never a password).
- `tls.py` — SSLContexts for SSL/SASL_SSL listeners, the generated development CA, the mTLS principal.
Authorization: `authorizer.py`, `acls*.py`.
"""
