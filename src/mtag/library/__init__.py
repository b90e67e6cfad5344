"""Whole-library work: finding tracks, tagging them run by run, undoing a run."""
