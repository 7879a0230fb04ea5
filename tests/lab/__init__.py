"""A network lab for Pantau: the office's path to the data center built from Linux namespaces.

    office --lan-- router --wan-- isp --backbone-- dc

`Lab.up()` builds it (root, iproute2, nftables), `lab.link_down("wan")`, `lab.dns("silent")`,
... are faults, `Pantau(lab)` runs the real daemon in the office namespace, and
`python -m tests.lab up|down|fault|status|pantau` drives it by hand. See docs/lab.md.
"""
