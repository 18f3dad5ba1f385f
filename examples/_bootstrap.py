"""Lets `python3 examples/<name>.py` run straight from a checkout, with nothing installed.

Every example imports this module first. If `agentkit_min` is not importable (not installed,
not on PYTHONPATH), the repository root, the folder above this one, is put at the front of
`sys.path`. When the package is installed, this does nothing.
"""

import importlib.util
import os
import sys

if importlib.util.find_spec("agentkit_min") is None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
