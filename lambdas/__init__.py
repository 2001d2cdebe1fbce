"""Lambda entry points: one thin file per bundled handler (``<kind>_<name>.lambda_handler``)."""
