import os
import sys

# Contract suites live in tests/contract and are imported by each backend's test module.
sys.path.insert(0, os.path.dirname(__file__))
