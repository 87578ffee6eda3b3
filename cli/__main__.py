"""`python -m cli cases|case|forecast ...`."""

from cli.main import cse

cse()
