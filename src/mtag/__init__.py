"""mtag: tag music libraries with genres by listening to the audio."""

__version__ = "0.1.0"
