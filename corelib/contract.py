"""The kernel contract as data: what every backend kernel takes and returns.

Each primitive op record (``corelib._ops.core.Op``) carries, once, its kernel signature (a
compact string, parsed here), its shape-and-dtype rule, whether it is in the core set and a
one-line description. This module is the public view of those records:

* ``kernels()`` -- every kernel's ``Contract``; ``kernel_contract(name)`` -- one of them.
* ``infer(name, *operands, **params)`` -- run an op's shape-and-dtype rule on operands that are
  anything with ``.shape`` and ``.dtype`` (a NumPy dtype or a dtype name), Python scalars or
  None; returns a ``Meta`` (or a tuple of them, None where a backend-defined workspace goes).
  Ops whose output shape depends on the data (nonzero, unique, ...) raise NotImplementedError.
* ``table_problems(kernels)`` -- what a backend's kernel table breaks (unknown names, missing
  core kernels, signatures that cannot take the contract's arguments); the registry reports
  them at registration as a ``KernelContractWarning``.
* ``checked_kernel(...)`` -- a kernel wrapped to check every result (``CORELIB_CHECK_KERNELS=1``
  installs it at resolve time; see corelib.dispatch).

Signature syntax (see ``corelib._ops.core`` for the full description)::

    (Array a, Array|Scalar b, *, dims dim, bool keepdim, Array! out=None) -> Array

Operands (before ``*``) are passed positionally, params (after ``*``) by keyword; ``-> Array(x)``
is a view sharing storage with operand ``x``; ``Array!`` marks an array the kernel writes into
(``out=`` when given: the kernel writes there and returns it).
"""
from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass

__all__ = ["Meta", "Param", "Return", "Contract", "KINDS", "DATA_DEPENDENT", "kernels",
           "kernel_contract", "infer", "parse_signature", "meta_of", "dtype_name",
           "KernelContractWarning", "table_problems", "signature_problem", "checked_kernel"]


@dataclass(frozen=True, slots=True)
class Meta:
    """An array without data: its shape (a tuple of ints) and dtype name (``"float32"``)."""
    shape: tuple
    dtype: str

    @property
    def ndim(self):
        return len(self.shape)


# parameter kinds: name -> what a kernel receives
KINDS = {
    "Array": "a backend array",
    "Array|Scalar": "a backend array or a Python number",
    "Scalar": "a Python bool, int or float",
    "int": "a Python int",
    "float": "a Python float",
    "bool": "a Python bool",
    "str": "a string option",
    "dim": "one non-negative dim",
    "dims": "a tuple of non-negative dims",
    "shape": "a tuple of non-negative sizes",
    "int[]": "a tuple of ints",
    "int[][]": "a tuple of (low, high) int pairs",
    "dtype": "a dtype name such as 'float32'",
    "Generator": "the random state made by BackendSpec.make_generator",
    "Any": "an opaque value (index keys, generator states)",
}
_RETURN_KINDS = {"Array", "None", "bool", "int", "int[]", "Any"}
_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One kernel argument. ``positional``: an operand (passed by position); otherwise a
    keyword param. ``optional``: None is allowed; ``mutated``: the kernel writes into it."""
    name: str
    kind: str
    optional: bool = False
    mutated: bool = False
    positional: bool = True
    variadic: bool = False
    default: object = _REQUIRED

    @property
    def required(self):
        return self.default is _REQUIRED

    def __str__(self):
        text = ("*" if self.variadic else "") + self.kind + ("!" if self.mutated else "") + \
            ("?" if self.optional else "") + " " + self.name
        return text if self.required else f"{text}={self.default!r}"


@dataclass(frozen=True)
class Return:
    """One result: its kind, whether it may be None, and the operand it is a view of."""
    kind: str
    optional: bool = False
    view_of: str | None = None

    def __str__(self):
        return self.kind + (f"({self.view_of})" if self.view_of else "") + \
            ("?" if self.optional else "")

    def describe(self):
        if self.kind != "Array":
            return {"None": "nothing (writes in place)", "Any": "a backend-defined value"}.get(
                self.kind, f"a Python {self.kind}")
        text = f"a view sharing storage with {self.view_of}" if self.view_of else "a new array"
        return text + (" or None" if self.optional else "")


@dataclass(frozen=True)
class Contract:
    """The contract of one kernel (see the module doc)."""
    name: str
    signature: str
    operands: tuple
    params: tuple
    returns: tuple
    returns_tuple: bool
    core: bool
    description: str

    @property
    def out(self):
        """Whether the kernel takes ``out=`` (writes into it and returns it when given)."""
        return any(p.name == "out" for p in self.params)

    @property
    def data_dependent(self):
        return _op(self.name).rule is DATA_DEPENDENT

    def return_rule(self):
        """The return rule in words."""
        parts = [r.describe() for r in self.returns]
        text = parts[0] if not self.returns_tuple else \
            f"a tuple of {len(parts)}: " + ", ".join(parts)
        if self.out:
            text += "; with out=: writes into out and returns it"
        return text

    def as_dict(self):
        return {"name": self.name, "signature": self.signature,
                "operands": [_param_dict(p) for p in self.operands],
                "params": [_param_dict(p) for p in self.params],
                "returns": [{"kind": r.kind, "optional": r.optional, "view_of": r.view_of}
                            for r in self.returns],
                "returns_tuple": self.returns_tuple, "return_rule": self.return_rule(),
                "core": self.core, "data_dependent": self.data_dependent,
                "description": self.description}


def _param_dict(p):
    d = {"name": p.name, "kind": p.kind, "optional": p.optional, "mutated": p.mutated,
         "variadic": p.variadic}
    if not p.required:
        d["default"] = p.default
    return d


# ---------------------------------------------------------------------------------------------
# parsing
_PARAM = re.compile(r"^(\*?)(Array\|Scalar|[A-Za-z]+(?:\[\])*)(!?)(\??)\s+(\w+)(?:=(.+))?$")
_RET = re.compile(r"^([A-Za-z]+(?:\[\])?)(?:\((\w+)\))?(\??)$")


def _split(text):
    """Split on top-level commas."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _literal(text):
    import ast
    return ast.literal_eval(text)


@functools.lru_cache(maxsize=None)
def parse_signature(sig):
    """``"(Array x, *, dims dim) -> Array"`` -> (operands, params, returns, returns_tuple)."""
    try:
        args, ret = sig.rsplit("->", 1)
        args, ret = args.strip(), ret.strip()
        if not (args.startswith("(") and args.endswith(")")):
            raise ValueError("arguments must be in parentheses")
        operands, params, keyword = [], [], False
        for item in _split(args[1:-1]):
            if item == "*":
                keyword = True
                continue
            m = _PARAM.match(item)
            if m is None:
                raise ValueError(f"bad parameter {item!r}")
            star, kind, bang, q, name, default = m.groups()
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            value = _REQUIRED if default is None else _literal(default)
            p = Param(name, kind, optional=bool(q) or value is None, mutated=bool(bang),
                      positional=not keyword, variadic=bool(star), default=value)
            (params if keyword else operands).append(p)
        tuple_ret = ret.startswith("(")
        returns = []
        for item in _split(ret[1:-1] if tuple_ret else ret):
            m = _RET.match(item)
            if m is None or m.group(1) not in _RETURN_KINDS:
                raise ValueError(f"bad return {item!r}")
            kind, view, q = m.groups()
            if view is not None and view not in {p.name for p in operands}:
                raise ValueError(f"view of unknown operand {view!r}")
            returns.append(Return(kind, optional=bool(q), view_of=view))
    except ValueError as exc:
        raise ValueError(f"kernel signature {sig!r}: {exc}") from None
    return tuple(operands), tuple(params), tuple(returns), tuple_ret


# ---------------------------------------------------------------------------------------------
# the records
class _DataDependent:
    """Rule marker: the output shape depends on the values (nonzero, unique, ...)."""

    def __repr__(self):
        return "DATA_DEPENDENT"


DATA_DEPENDENT = _DataDependent()


def _ops():
    from ._ops.core import Op
    return {name: op for name, op in Op.all.items() if op.has_kernel}


_ALL = []   # [Op.all], filled at first use (corelib._ops imports this module)


def _op(name):
    """The op record of kernel ``name`` or None (no dict is built: infer's hot path)."""
    if not _ALL:
        from ._ops.core import Op
        _ALL.append(Op.all)
    op = _ALL[0].get(name)
    return op if op is not None and op.has_kernel else None


@functools.lru_cache(maxsize=None)
def _defaults(op):
    return tuple((p.name, p.default) for p in _contract(op).params if not p.required)


@functools.lru_cache(maxsize=None)
def _contract(op):
    if op.sig is None:
        raise LookupError(f"op {op.name!r} has no kernel signature in its record")
    operands, params, returns, tuple_ret = parse_signature(op.sig)
    return Contract(op.name, op.sig, operands, params, returns, tuple_ret, bool(op.core),
                    op.doc or "")


def kernels():
    """The contracts of every kernel a backend may implement, sorted by name (an op record
    without a signature is left out; tests/test_contract.py fails on it)."""
    ops = _ops()
    return [_contract(ops[name]) for name in sorted(ops) if ops[name].sig is not None]


def kernel_contract(name):
    """The ``Contract`` of kernel ``name`` (KeyError for an unknown name)."""
    op = _op(name)
    if op is None:
        raise KeyError(f"no kernel named {name!r} (see `python -m corelib kernels`)")
    return _contract(op)


_DTYPE_NAMES = {}


def dtype_name(dtype):
    """A dtype name from a NumPy/CuPy/corelib dtype or a name."""
    try:
        return _DTYPE_NAMES[dtype]
    except (KeyError, TypeError):
        pass
    name = getattr(dtype, "name", None)
    name = name if isinstance(name, str) else str(dtype)
    try:
        _DTYPE_NAMES[dtype] = name   # NumPy computes .name in Python: remember it
    except TypeError:
        pass
    return name


def meta_of(x):
    """``x`` as a Meta if it has ``.shape`` and ``.dtype``; anything else unchanged."""
    if x is None or isinstance(x, (Meta, bool, int, float)):
        return x
    shape = getattr(x, "shape", None)
    if shape is None or not hasattr(x, "dtype"):
        return x
    return Meta(shape if type(shape) is tuple else tuple(int(s) for s in shape),
                dtype_name(x.dtype))


def infer(name, *operands, **params):
    """The result ``Meta`` (or tuple of Metas) of kernel ``name`` on these operands and params.

    Operands are objects with ``.shape`` and ``.dtype``, Python scalars or None (index keys
    may hold such objects); params are the kernel's keyword params (``out=`` is ignored).
    Raises NotImplementedError for ops whose result shape depends on the data, and the
    errors of the rule (RuntimeError naming the op) for operands the op cannot take.
    """
    op = _op(name)
    if op is None:
        raise KeyError(f"no kernel named {name!r} (see `python -m corelib kernels`)")
    rule = op.rule
    if rule is DATA_DEPENDENT:
        raise NotImplementedError(f"{name}(): the shape of the result depends on the values "
                                  f"of the input, so it cannot be inferred from shapes alone")
    if rule is None:
        raise NotImplementedError(f"{name}(): no shape-and-dtype rule in its op record")
    params.pop("out", None)
    for key, value in _defaults(op):
        if key not in params:
            params[key] = value
    try:
        return rule(*[meta_of(x) for x in operands], **params)
    except (IndexError, ValueError) as exc:
        raise RuntimeError(f"{name}(): {exc}") from None


# ---------------------------------------------------------------------------------------------
# checking a backend against the contract
class KernelContractWarning(RuntimeWarning):
    """A backend's kernel table does not match the contract (issued at registration)."""


def _call_forms(c):
    """(number of operands, keyword names) of the fullest and the barest call the frontend
    may make."""
    full = (sum(2 if p.variadic else 1 for p in c.operands), tuple(p.name for p in c.params))
    bare = (sum(1 for p in c.operands if p.required),
            tuple(p.name for p in c.params if p.required))
    return full, bare


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _bind_problem(params, nargs, keywords):
    """Why a function with these inspect parameters cannot take ``nargs`` positional
    arguments and these keywords (what Signature.bind checks, without its cost), or None."""
    positional = [p for p in params if p.kind in _POSITIONAL]
    if nargs > len(positional):
        return f"takes {len(positional)} positional arguments, not {nargs}"
    taken = {p.name for p in positional[:nargs]}
    by_name = {p.name: p for p in params if p.kind != inspect.Parameter.POSITIONAL_ONLY}
    for k in keywords:
        if k not in by_name:
            return f"got an unexpected keyword argument {k!r}"
        if k in taken:
            return f"got multiple values for argument {k!r}"
        taken.add(k)
    missing = [p.name for p in params if p.name not in taken and p.default is p.empty]
    return f"missing a required argument: {missing[0]!r}" if missing else None


def signature_problem(name, kernel):
    """Why ``kernel`` cannot take the calls the contract of ``name`` makes, or None.

    Kernels with ``*args``/``**kwargs`` or no inspectable signature pass."""
    try:
        params = tuple(inspect.signature(kernel, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):
        return None
    for p in params:
        if p.kind in _VARIADIC:
            return None
    c = kernel_contract(name)
    for nargs, keywords in _call_forms(c):
        problem = _bind_problem(params, nargs, keywords)
        if problem:
            call = ", ".join(["x"] * nargs + [f"{k}=" for k in keywords])
            return f"cannot be called as {name}({call}): {problem} (contract: {c.signature})"
    return None


def table_problems(kernels):
    """Problems of a kernel table (name -> kernel) against the contract, one line each:
    unknown kernel names, missing core kernels, signatures that cannot take the contract's
    arguments."""
    ops = _ops()
    problems = [f"unknown kernel {name!r} (no such op; see `python -m corelib kernels`)"
                for name in sorted(kernels) if name not in ops]
    missing = sorted(name for name, op in ops.items() if op.core and name not in kernels)
    if missing:
        problems.append(f"missing core kernels: {', '.join(missing)}")
    for name in sorted(kernels):
        if name in ops and ops[name].sig is not None:
            problem = signature_problem(name, kernels[name])
            if problem:
                problems.append(f"kernel {name!r} {problem}")
    return problems


def checked_kernel(name, kernel, device, plugin, array_type=None, shares_memory=None):
    """``kernel`` wrapped to check each result against the contract of ``name``: type
    (``array_type``; a 0-d array, not a NumPy scalar), shape and dtype (the rule), ``out=``
    returned, and views sharing storage with their operand (when ``shares_memory(a, b)`` is
    given). The first bad result raises RuntimeError naming op, device and plugin."""
    op = _op(name)
    if op is None or op.sig is None:
        return kernel
    c = _contract(op)
    where = f"kernel {name!r} of device {device!r} (plugin {plugin!r})"

    def check(*operands, **params):
        result = kernel(*operands, **params)
        problem = _result_problem(c, op.rule, result, operands, params, array_type,
                                  shares_memory)
        if problem:
            raise RuntimeError(f"{where} broke the kernel contract: {problem} "
                               f"(contract: {c.signature})")
        return result
    check.__wrapped__ = kernel
    return check


def _describe(value):
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}"


def _result_problem(c, rule, result, operands, params, array_type, shares_memory):
    out = params.get("out")
    if out is not None and out is not Ellipsis and c.out:
        if result is out or (shares_memory is None and
                             getattr(result, "shape", None) == getattr(out, "shape", ())):
            return None   # (a wrapper around out's storage cannot be told apart without it)
        if shares_memory is not None and getattr(result, "size", 1) and \
                shares_memory(result, out):
            return None
        return f"with out= it returned {_describe(result)}, not out"
    expected = None
    if callable(rule):
        kw = dict(_defaults(_op(c.name)))
        kw.update(params)
        kw.pop("out", None)
        try:
            expected = rule(*[meta_of(x) for x in operands], **kw)
        except NotImplementedError:
            expected = None
        except Exception as exc:
            return f"its shape rule failed on these operands: {type(exc).__name__}: {exc}"
    if c.returns_tuple:
        if not isinstance(result, (tuple, list)) or len(result) != len(c.returns):
            return f"returned {_describe(result)}, not a tuple of {len(c.returns)}"
        values = tuple(result)
        metas = expected if isinstance(expected, tuple) else (None,) * len(values)
    else:
        values, metas = (result,), (expected,)
    names = [p.name for p in c.operands]
    for i, (ret, value, meta) in enumerate(zip(c.returns, values, metas)):
        what = f"result {i}" if c.returns_tuple else "the result"
        if ret.kind != "Array":
            continue
        if value is None:
            if ret.optional:
                continue
            return f"{what} is None"
        if array_type is not None and not isinstance(value, array_type):
            import numpy
            hint = " (a NumPy scalar: return a 0-d array)" if isinstance(value, numpy.generic) \
                else ""
            return f"{what} is {_describe(value)}, not the backend's array type " \
                   f"{_describe_type(array_type)}{hint}"
        if meta is not None:
            shape = tuple(getattr(value, "shape", ()))
            if shape != meta.shape:
                return f"{what} has shape {shape}, expected {meta.shape}"
            dtype = dtype_name(getattr(value, "dtype", None))
            if dtype != meta.dtype:
                return f"{what} has dtype {dtype}, expected {meta.dtype}"
        if ret.view_of and shares_memory is not None:
            base = operands[names.index(ret.view_of)]
            if getattr(value, "size", 1) and getattr(base, "size", 1) and \
                    not shares_memory(value, base):
                return f"{what} does not share storage with {ret.view_of} (a view is required)"
    return None


def _describe_type(t):
    return f"{t.__module__}.{t.__qualname__}"
