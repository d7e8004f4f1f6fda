"""The one exception type that means "the user's input is wrong"."""

# Set while a command runs with --debug (or by the user): tracebacks, and the lines of
# the libraries kept quiet otherwise.
DEBUG = "FORECAST_DEBUG"


class ForecastError(Exception):
    """Bad input or usage: shown as one ``Error: ...`` line, exit status 2.

    The message names the file, column or flag at fault and says what would fix it.
    """

    status = 2


class WorkerLost(ForecastError):
    """A worker process ended before its work was done (killed, crashed) or could not
    start: not the input's fault, so exit status 1, with the same one line."""

    status = 1


class Interrupted(Exception):
    """Ctrl-C stopped a command after it saved what it had: the message says what was
    saved and how to go on; exit status 130, as for any interrupted command."""
