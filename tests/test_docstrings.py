"""dir() shows every public function, and every public function, Tensor method and nn module
class has a docstring of its own (help() shows it, not a base class's)."""
from __future__ import annotations

import inspect

import pytest

import corelib
import corelib.nn.functional as F
from corelib import _composites, _ops, autograd, linalg, nn, optim, special
from corelib.nn import _functional_extra
from corelib.nn.utils import rnn as rnn_utils

NAMESPACES = {"corelib": corelib, "corelib.nn.functional": F, "corelib.linalg": linalg,
              "corelib.special": special, "corelib.autograd": autograd,
              "corelib.nn.utils.rnn": rnn_utils}
# modules written in PyTorch's docstring style: signature line, blank line, one sentence
SIGNATURE_STYLE = (_composites, special, _functional_extra, rnn_utils)


def _public_functions(namespace):
    for name in dir(namespace):
        value = getattr(namespace, name, None)
        if not name.startswith("_") and callable(value) and not inspect.isclass(value) and \
                not inspect.ismodule(value):
            yield name, value


def _doc(obj, own_class=False):
    doc = obj.__dict__.get("__doc__") if own_class else getattr(obj, "__doc__", None)
    return (doc or "").strip()


def test_dir_lists_every_public_function():
    names = set(dir(corelib))
    for module in _ops.MODULES + (_composites,):
        assert not set(module.__all__) - names, module.__name__
    assert "special" in names
    f_names = set(dir(F))
    for name in F._FROM_CORELIB + ("pad",) + tuple(_functional_extra.__all__):
        if hasattr(F, name):
            assert name in f_names
    assert not [n for n in f_names if not hasattr(F, n)]
    assert {"elu", "gelu", "silu", "hardtanh", "leaky_relu", "pad", "rms_norm"} <= f_names


@pytest.mark.parametrize("where", list(NAMESPACES))
def test_public_functions_have_docstrings(where):
    missing = [name for name, fn in _public_functions(NAMESPACES[where]) if not _doc(fn)]
    assert not missing, f"{where}: no docstring for {missing}"


def test_tensor_methods_have_docstrings():
    missing = [name for name, fn in vars(corelib.Tensor).items()
               if not name.startswith("_") and callable(fn) and not _doc(fn)]
    assert not missing, f"Tensor: no docstring for {missing}"


def test_module_classes_have_their_own_docstring():
    classes = [getattr(nn, n) for n in nn.__all__ if inspect.isclass(getattr(nn, n))]
    classes += [getattr(optim, n) for n in optim.__all__ if inspect.isclass(getattr(optim, n))]
    missing = [c.__name__ for c in classes if not _doc(c, own_class=True)]
    assert not missing, f"no docstring of their own: {missing}"
    assert "Cross entropy" in nn.CrossEntropyLoss.__doc__


@pytest.mark.parametrize("module", SIGNATURE_STYLE, ids=lambda m: m.__name__)
def test_signature_line_then_one_sentence(module):
    for name in module.__all__:
        obj = getattr(module, name)
        if not callable(obj) or getattr(obj, "__module__", None) != module.__name__:
            continue
        doc = inspect.cleandoc(obj.__doc__ or "")
        first, _, rest = doc.partition("\n\n")
        assert first.startswith(f"{obj.__name__}("), (name, first)
        assert rest.strip(), (name, "no sentence after the signature line")


def test_generated_docstrings_follow_pytorch_style():
    assert corelib.Tensor.sin_.__doc__.splitlines()[0] == "sin_() -> Tensor"
    assert "In-place version of sin()" in corelib.Tensor.sin_.__doc__
    assert corelib.Tensor.half.__doc__.startswith(
        "half(memory_format=corelib.preserve_format) -> Tensor")
    assert nn.ReLU.__doc__.startswith("ReLU(inplace=False)")
    assert corelib.zeros.__doc__.startswith("zeros(*size, ")
