"""Benchmarks: each figure measured beside a baseline in the same run (`python -m bench`)."""
