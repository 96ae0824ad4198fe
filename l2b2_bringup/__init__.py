"""Bringing the stack up: the launcher, the stack descriptions, benchmarks and scenarios."""
