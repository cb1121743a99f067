"""Compatibility tests: real Kafka clients against a running broker over real sockets."""
