"""Assignment: site folder, rosters, validation, reports and the `staffing` CLI."""

__version__ = "0.1.0"
