"""End to end: a running Pantau, real Prometheus and Alertmanager, all on 127.0.0.1."""
