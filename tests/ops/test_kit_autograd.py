"""The conformance kit's autograd checks (corelib.testing.test_kit_autograd) on every installed backend,
parametrized over ``device`` by tests/conftest.py."""
from corelib.testing.test_kit_autograd import *  # noqa: F401,F403
