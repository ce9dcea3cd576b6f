"""``python -m graders.cli`` runs the ``cbec`` command."""

import sys

from graders.cli import main

sys.exit(main())
