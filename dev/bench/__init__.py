"""Benchmarks (`make bench`): each measures the project against a minimal baseline in the same run."""
