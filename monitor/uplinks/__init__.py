"""Two uplinks (issue 16): per-target source binding, the verdict per uplink, "up on backup"."""
