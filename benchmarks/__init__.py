"""Speed and memory measurements of the curriculum, kept out of the tests on purpose.

Run them all with ``make bench`` (``python -m benchmarks``) or one with
``python -m benchmarks mnist_input``. Each prints its figures and appends them to
``benchmarks/results.jsonl`` (with machine, profile and date), from which the README's
results table is generated (``make readme``). ``tests/test_benchmarks.py`` runs each one in
its smoke mode (tiny sizes, nothing recorded here; see ``benchmarks/common.py``), so that a
change in ``edgelab`` cannot break a benchmark unnoticed.
"""
