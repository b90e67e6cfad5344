"""Measuring models: metrics over track scores (torch-free)."""
