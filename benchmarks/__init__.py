"""refundcore's benchmarks; run them with ``make bench`` (``python -m benchmarks``)."""
