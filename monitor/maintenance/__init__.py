"""Planned maintenance (issue 16): windows from the config and a central schedule file."""
