"""Benchmarks of the Kontext GraphQL service against baselines measured side by side.

Run them all with `bench/run.sh`; each module also runs alone: `python -m bench.<name> --help`.
"""
