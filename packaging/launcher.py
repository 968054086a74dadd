"""Entry point of the frozen app (PyInstaller): the same as the ``backprop-lab`` command."""

import sys

from backprop_lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
