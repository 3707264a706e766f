"""Evaluation: pass@k on the reasoning benchmarks, with and without hints, and the test-time scaling curve."""
