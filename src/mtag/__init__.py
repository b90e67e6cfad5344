"""mtag: tag music libraries with genres by listening to the audio."""

from mtag.cpu import prefer_passive_waiting

__version__ = "0.1.0"

# Before any mtag module imports torch, which loads OpenMP, which reads this once (see mtag.cpu).
prefer_passive_waiting()
