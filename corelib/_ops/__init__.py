"""Op definitions, one module per family. Import order matters only for method installation."""
from . import core, elementwise, shape, reduction, creation, indexing, random, linalg, nn  # noqa
from . import rnn, attention, fused  # noqa

MODULES = (elementwise, shape, reduction, creation, indexing, random, linalg, nn, rnn, attention,
           fused)
