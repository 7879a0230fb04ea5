"""What pages need from the daemon: the page settings, and the facts exported for the alerts."""
