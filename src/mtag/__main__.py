"""``python -m mtag`` runs the command line."""

from mtag.cli.main import run

run()
