"""Benchmarks run by `make bench`; they print tables and never assert on time."""
