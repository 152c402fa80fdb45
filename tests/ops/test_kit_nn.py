"""The conformance kit's nn checks (corelib.testing.test_kit_nn) on every installed backend,
parametrized over ``device`` by tests/conftest.py."""
from corelib.testing.test_kit_nn import *  # noqa: F401,F403
