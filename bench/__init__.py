"""Benchmarks, run by hand: ``python -m bench.<name>``. Each prints its figures and the
baseline measured in the same run."""
