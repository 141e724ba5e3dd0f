"""Entry point of the frozen bundle: the same ``workbench`` command as the pip-installed one.

PyInstaller starts here; the GUI and every headless subcommand go through ``workbench.cli.main``.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not start a second GUI
    from workbench.cli import main

    sys.exit(main())
