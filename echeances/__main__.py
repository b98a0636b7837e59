"""``python -m echeances`` runs the command line."""
import sys

from echeances.cli import main

sys.exit(main())
