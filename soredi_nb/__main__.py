"""Allow ``python -m soredi_nb``."""

from soredi_nb.cli import main

main()
