"""The op table on every installed backend: the conformance kit's own tests
(corelib.testing.test_kit_ops), parametrized over ``device`` by tests/conftest.py."""
from corelib.testing.test_kit_ops import *  # noqa: F401,F403
