"""`python -m runway_nb …` is `runway-nb …`."""

from .cli import run

if __name__ == "__main__":
    run()
