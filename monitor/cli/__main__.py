"""`python -m monitor.cli`: the same `main` as the `pantau` console script."""

import sys

from monitor.cli.parser import main

sys.exit(main())
