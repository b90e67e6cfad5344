"""Training taggers: transfer from an installed model (frozen or fine-tuned) on any data set mtag reads.

:mod:`.settings` says what a run is; :mod:`.run` does one end to end (cache,
features, loop, model folder), usable from Python exactly as ``mtag train``
uses it.
"""
