"""Pre-annotation handlers: one module per bundled handler, each with ``handle(event, ...)``."""
