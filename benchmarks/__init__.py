"""Benchmarks (`make bench`): results are written under benchmarks/results/."""
