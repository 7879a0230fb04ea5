"""Per-hop path evidence: the tracer, who owns which addresses, and what a trace says."""
