"""The production settings, plus one trivial endpoint the benchmark compares the results page with
(bench.urls). Used only by `make bench`; every other value comes from production.py and the
environment the benchmark sets to local values."""

from marketplace.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
