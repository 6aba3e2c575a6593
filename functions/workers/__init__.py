"""Functions behind no route: queue consumers and scheduled jobs (see
``functions.catalog.WORKERS``)."""
