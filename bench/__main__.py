"""`python -m bench`: build the data, run every benchmark, print the table, write the docs."""

from .run import main

main()
