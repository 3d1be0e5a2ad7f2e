import sys

from kiosk.console import main

sys.exit(main())
