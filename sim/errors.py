"""The errors a user's input can raise: each message is one line naming the file, the key (or row
and column) and what is allowed. The CLI turns them into exit code 2 without a traceback."""


class InputError(ValueError):
    """A scenario, factory or data file that cannot be used."""


class DataError(InputError):
    """A data table (CSV) that cannot be used: names the file, row, column and what is allowed."""
