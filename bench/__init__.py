"""Pantau's benchmark, side by side with blackbox_exporter (`python -m bench --help`)."""
