"""The Kafka binary protocol, sans-IO: bytes in, typed requests out; typed responses in, bytes out."""
