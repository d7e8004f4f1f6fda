"""The one exception type that means "the user's input is wrong"."""


class ForecastError(Exception):
    """Bad input or usage: shown as one ``Error: ...`` line, exit status 2.

    The message names the file, column or flag at fault and says what would fix it.
    """
