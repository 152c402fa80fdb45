"""Op definitions, one module per family. Import order matters only for method installation."""
from . import core, elementwise, shape, reduction, creation, indexing  # noqa: F401

MODULES = (elementwise, shape, reduction, creation, indexing)
