"""The benchmarks of ``./dev bench`` (run as scripts; a package so tests can import ``rss``)."""
