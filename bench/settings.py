"""The production settings, with the benchmark's floor among the addresses (``bench/floor.py``)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor"
