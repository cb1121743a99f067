"""Adversarial regression tests: each defect class of issue 10 as a bound asserted (stall of a second
client, state size, error code, time), not only as survival. The schema-driven fuzzer is here too."""
