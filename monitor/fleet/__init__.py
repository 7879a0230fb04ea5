"""The national view (issue 15): offices feeding one central VictoriaMetrics.

`offices` builds the 514 simulated offices, `scenario` says what each office sees at a given
time (pure), `exporter` serves their /metrics pages with Pantau's own series names, `stack`
starts the real central engines, `confirm` asks the center how many offices see the same fault.
`python -m monitor.fleet` runs the whole simulation.
"""
