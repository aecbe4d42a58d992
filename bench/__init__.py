"""``make bench``: issue 12's benchmark (``python -m bench``; README, Deployment, "Benchmarks")."""
