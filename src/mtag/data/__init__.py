"""Data sets for training and evaluation: adapters that turn a folder into labelled examples."""

from mtag.data.examples import SPLITS, TEST, TRAIN, VALID, Dataset, Example, Skipped

__all__ = ["SPLITS", "TEST", "TRAIN", "VALID", "Dataset", "Example", "Skipped"]
