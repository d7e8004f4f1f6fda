"""Allow ``python -m forecast_cli``."""

from forecast_cli.cli import main

main()
