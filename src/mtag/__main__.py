"""``python -m mtag`` runs the command line (``torchrun -m mtag train`` too)."""

from mtag.cli.main import run

if __name__ == "__main__":  # a spawned worker process imports this module too: it must not run the CLI again
    run()
