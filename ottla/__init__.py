"""Ottla for the people who test Kafka code: `ottla.testing` (a broker or cluster per test, faults,
restart and kill) and its pytest plugin (`ottla.pytest_plugin`, registered as a pytest11 entry point)."""
