"""Benchmarks; run each as a module from the project root (see bench/README.md)."""
