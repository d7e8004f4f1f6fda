"""Allow ``python -m forecast_cli``: the app with Python's own exit rather than the console
script's quick one (``cli.main``), so that a profiler or tracer around it
(``python -m cProfile -m forecast_cli ...``) still writes what it measured."""

from forecast_cli.cli import app

app()
