"""What the benchmarks share: the running stack, a watch that timestamps events, manifests, figures.

The benchmarks are scripts (`python bench/<name>.py`), so this package is found next to them on
sys.path; nothing here runs at import time.
"""
