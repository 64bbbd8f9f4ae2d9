import sys

from .scenarios import main

sys.exit(main())
