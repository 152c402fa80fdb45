"""Op table: matmul family, einsum and corelib.linalg.

Decompositions whose outputs are only defined up to a gauge (signs of singular vectors and
eigenvectors) are checked through gauge-invariant wrappers (|U|, |Vh|, |V|), and ops that read
one triangle (cholesky, eigh) get symmetric inputs built inside the wrapper, as PyTorch's own
OpInfos do. Wrappers take the module (corelib or torch) so one definition serves both.
"""
import numpy as np

import corelib
from .opinfo import OpInfo, Sample, FLOATS, make_tensor, sample_rng, filled_special

MATMUL_DTYPES = FLOATS + ("int32", "int64")
_rng = sample_rng(4321)


def _t(shape, dtype, device, transposed=False, **kw):
    """make_tensor; ``transposed`` gives a non-contiguous (transposed) view of that shape."""
    if transposed and len(shape) < 2:
        return make_tensor(shape, dtype, device, noncontiguous=True, **kw)
    if transposed:
        shape = tuple(shape[:-2]) + (shape[-1], shape[-2])
        return make_tensor(shape, dtype, device, **kw).mT
    return make_tensor(shape, dtype, device, **kw)


def _square(shape, dtype, device, kind="wellcond", transposed=False):
    """A batch of square matrices: 'wellcond' (random + n*I), 'spd' (B B^T + n*I),
    'general' (random)."""
    n = shape[-1]
    b = _rng.uniform(-1, 1, size=shape)
    if kind == "wellcond":
        b = b + n * np.eye(n)
    elif kind == "spd":
        b = b @ np.swapaxes(b, -1, -2) + n * np.eye(n)
    if transposed:
        b = np.swapaxes(b, -1, -2)
    t = corelib.tensor(np.ascontiguousarray(b).astype(dtype), device=device)
    return t.mT if transposed else t


def _rect(shape, dtype, device, transposed=False):
    """Random rectangular matrices with well-separated singular values."""
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(_rng.standard_normal(shape[:-2] + (m, m)))[0][..., :k]
    v = np.linalg.qr(_rng.standard_normal(shape[:-2] + (n, n)))[0][..., :k]
    s = np.linspace(3.0, 1.0, k) if k else np.zeros(0)
    a = (u * s) @ np.swapaxes(v, -1, -2)
    if transposed:
        t = corelib.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)).astype(dtype),
                           device=device)
        return t.mT
    return corelib.tensor(a.astype(dtype), device=device)


# ---------------------------------------------------------------------------------------------
# samples
def _matmul_samples(dtype, device):
    pairs = [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)),
             ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4,)),
             ((4,), (2, 4, 5)), ((0, 4), (4, 5)), ((3, 0), (0, 5)), ((2, 3, 4), (2, 4, 2))]
    out = [Sample((_t(a, dtype, device), _t(b, dtype, device))) for a, b in pairs]
    out.append(Sample((_t((3, 4), dtype, device, True), _t((4, 5), dtype, device, True))))
    out.append(Sample((_t((2, 3, 4), dtype, device, True), _t((4, 2), dtype, device))))
    return out


def _mm_samples(dtype, device):
    return [Sample((_t((3, 4), dtype, device), _t((4, 5), dtype, device))),
            Sample((_t((3, 4), dtype, device, True), _t((4, 2), dtype, device, True))),
            Sample((_t((0, 4), dtype, device), _t((4, 3), dtype, device))),
            Sample((_t((2, 0), dtype, device), _t((0, 3), dtype, device)))]


def _bmm_samples(dtype, device):
    return [Sample((_t((2, 3, 4), dtype, device), _t((2, 4, 5), dtype, device))),
            Sample((_t((2, 3, 4), dtype, device, True), _t((2, 4, 2), dtype, device, True))),
            Sample((_t((0, 3, 4), dtype, device), _t((0, 4, 5), dtype, device)))]


def _mv_samples(dtype, device):
    return [Sample((_t((3, 4), dtype, device), _t((4,), dtype, device))),
            Sample((_t((3, 4), dtype, device, True), _t((4,), dtype, device,
                                                       noncontiguous=True))),
            Sample((_t((0, 4), dtype, device), _t((4,), dtype, device)))]


def _vector_pair_samples(dtype, device):
    return [Sample((_t((5,), dtype, device), _t((5,), dtype, device))),
            Sample((_t((4,), dtype, device, noncontiguous=True), _t((4,), dtype, device))),
            Sample((_t((0,), dtype, device), _t((0,), dtype, device)))]


def _outer_samples(dtype, device):
    return [Sample((_t((5,), dtype, device), _t((3,), dtype, device))),
            Sample((_t((4,), dtype, device, noncontiguous=True), _t((2,), dtype, device))),
            Sample((_t((0,), dtype, device), _t((3,), dtype, device)))]


def _inner_samples(dtype, device):
    pairs = [((5,), (5,)), ((2, 3), (4, 3)), ((2, 1, 3), (3,)), ((), (2, 3)), ((0, 3), (2, 3))]
    return [Sample((_t(a, dtype, device), _t(b, dtype, device))) for a, b in pairs]


def _fused_samples(kind, scales):
    shapes = {"addmm": [((3, 5), (3, 4), (4, 5)), ((5,), (3, 4), (4, 5)), ((1, 1), (2, 3), (3, 2)),
                        ((0, 2), (0, 3), (3, 2))],
              "addmv": [((3,), (3, 4), (4,)), ((1,), (3, 4), (4,)), ((0,), (0, 2), (2,))],
              "addr": [((3, 4), (3,), (4,)), ((4,), (3,), (4,))],
              "baddbmm": [((2, 3, 5), (2, 3, 4), (2, 4, 5)), ((3, 5), (2, 3, 4), (2, 4, 5))],
              "addbmm": [((3, 5), (2, 3, 4), (2, 4, 5)), ((5,), (2, 3, 4), (2, 4, 5))]}[kind]

    def samples(dtype, device):
        out = []
        for kw in scales:
            for si, sa, sb in shapes:
                out.append(Sample((_t(si, dtype, device), _t(sa, dtype, device),
                                   _t(sb, dtype, device)), dict(kw)))
        si, sa, sb = shapes[0]
        if len(sa) >= 2:
            out.append(Sample((_t(si, dtype, device), _t(sa, dtype, device, True),
                               _t(sb, dtype, device, True))))
        return out
    return samples


def _tensordot_samples(dtype, device):
    return [Sample((_t((2, 3, 4), dtype, device), _t((3, 4, 5), dtype, device)), dict(dims=2)),
            Sample((_t((2, 3), dtype, device), _t((3, 4), dtype, device)), dict(dims=1)),
            Sample((_t((2, 3), dtype, device), _t((4, 5), dtype, device)), dict(dims=0)),
            Sample((_t((2, 3, 4), dtype, device), _t((4, 2, 5), dtype, device)),
                   dict(dims=([0, 2], [1, 0]))),
            Sample((_t((3, 4), dtype, device, True), _t((4, 3), dtype, device)),
                   dict(dims=([0], [1])))]


def _kron_samples(dtype, device):
    pairs = [((2, 3), (3, 2)), ((3,), (2,)), ((2, 2), (3,)), ((2, 1, 2), (2, 3)), ((0, 2), (2, 2))]
    return [Sample((_t(a, dtype, device), _t(b, dtype, device))) for a, b in pairs]


EINSUM_CASES = [("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 2)]),
                ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]), ("i,i->", [(4,), (4,)]),
                ("i,j->ij", [(3,), (4,)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
                ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
                ("i...->...", [(3, 2, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
                ("abc,cd,bd->a", [(2, 3, 4), (4, 2), (3, 2)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 2),
                                                                           (2, 2)]),
                ("iij->j", [(2, 2, 3)]), ("i,i", [(1,), (3,)]), ("ij,ij->ij", [(0, 3), (0, 3)]),
                ("ba,ac->bc", [(3, 2), (2, 4)]), ("Ab,bC->AC", [(2, 3), (3, 2)])]


def _einsum_samples(dtype, device):
    out = []
    for eq, shapes in EINSUM_CASES:
        out.append(Sample((eq,) + tuple(_t(s, dtype, device) for s in shapes)))
    out.append(Sample(("ij,jk->ik", [_t((3, 4), dtype, device, True), _t((4, 2), dtype, device)])))
    return out


def _np_einsum(eq, *ops):
    if len(ops) == 1 and isinstance(ops[0], list):
        ops = ops[0]
    r = np.einsum(eq, *ops)
    return np.asarray(r, dtype=ops[0].dtype)


def _multi_dot_samples(dtype, device):
    return [Sample(([_t((2, 3), dtype, device), _t((3, 4), dtype, device),
                     _t((4, 2), dtype, device)],)),
            Sample(([_t((3,), dtype, device), _t((3, 4), dtype, device),
                     _t((4,), dtype, device)],)),
            Sample(([_t((2, 3), dtype, device, True), _t((3, 5), dtype, device)],))]


def _np_multi_dot(tensors):
    return np.linalg.multi_dot(tensors)


def _square_samples(kind="wellcond", sizes=((3, 3), (2, 3, 3), (1, 1), (0, 0), (2, 0, 0))):
    def samples(dtype, device):
        out = [Sample((_square(s, dtype, device, kind),)) for s in sizes]
        out.append(Sample((_square((3, 3), dtype, device, kind, transposed=True),)))
        return out
    return samples


def _general_square_samples(dtype, device):
    out = [Sample((_square(s, dtype, device, "general"),)) for s in ((3, 3), (2, 2, 2), (0, 0))]
    out.append(Sample((_square((3, 3), dtype, device, "general", transposed=True),)))
    return out


def _solve_samples(dtype, device):
    out = [Sample((_square((3, 3), dtype, device), _t((3, 2), dtype, device))),
           Sample((_square((3, 3), dtype, device), _t((3,), dtype, device))),
           Sample((_square((2, 3, 3), dtype, device), _t((2, 3), dtype, device))),
           Sample((_square((2, 1, 3, 3), dtype, device), _t((4, 3, 1), dtype, device))),
           Sample((_square((3, 3), dtype, device, transposed=True), _t((2, 3, 2), dtype, device))),
           Sample((_square((3, 3), dtype, device), _t((2, 3), dtype, device)), dict(left=False)),
           Sample((_square((0, 0), dtype, device), _t((0, 2), dtype, device)))]
    return out


def _rect_samples(shapes=((3, 3), (4, 2), (2, 4), (2, 3, 2)), tall_transposed=True, **kwargs):
    def samples(dtype, device):
        out = [Sample((_rect(s, dtype, device),), dict(kwargs)) for s in shapes]
        if tall_transposed:
                out.append(Sample((_rect((3, 2), dtype, device, transposed=True),), dict(kwargs)))
        return out
    return samples


def _empty_rect_samples(**kwargs):
    def samples(dtype, device):
        return [Sample((_t(s, dtype, device),), dict(kwargs)) for s in ((0, 3), (3, 0), (2, 0, 0))]
    return samples


def _join(*factories):
    def samples(dtype, device):
        return [s for f in factories for s in f(dtype, device)]
    return samples


def _power_samples(dtype, device):
    out = []
    for n in (0, 1, 2, 3, -1, -2):
        out.append(Sample((_square((3, 3), dtype, device), n)))
    out.append(Sample((_square((2, 2, 2), dtype, device), 5)))
    out.append(Sample((_square((3, 3), dtype, device, transposed=True), 2)))
    out.append(Sample((_square((0, 0), dtype, device), 2)))
    return out


def _np_matrix_power(a, n):
    return np.linalg.matrix_power(a, n).astype(a.dtype)


def _lstsq_samples(dtype, device):
    return [Sample((_rect((4, 3), dtype, device), _t((4, 2), dtype, device))),
            Sample((_rect((4, 3), dtype, device), _t((4,), dtype, device))),
            Sample((_rect((2, 4, 2), dtype, device), _t((2, 4, 3), dtype, device))),
            Sample((_rect((3, 3), dtype, device, transposed=True), _t((3, 1), dtype, device)))]


def _rank_samples(dtype, device):
    low = corelib.tensor(np.outer(np.arange(1, 4), np.arange(1, 5)).astype(dtype), device=device)
    return [Sample((_rect((3, 4), dtype, device),)), Sample((low,)),
            Sample((_t((2, 3, 3), dtype, device),)), Sample((low,), dict(atol=1.0, rtol=0.0)),
            Sample((_square((3, 3), dtype, device, "spd"),), dict(hermitian=True)),
            Sample((_t((0, 3), dtype, device),))]


def _cross_samples(dtype, device):
    pairs = [((3,), (3,), {}), ((4, 3), (4, 3), {}), ((2, 3), (1, 3), {}),
             ((3, 4), (3, 4), dict(dim=0)), ((0, 3), (0, 3), {})]
    out = [Sample((_t(a, dtype, device), _t(b, dtype, device)), kw) for a, b, kw in pairs]
    out.append(Sample((_t((3, 4), dtype, device, noncontiguous=True).mT,
                       _t((4, 3), dtype, device))))
    return out


def _np_cross(a, b, dim=-1):
    return np.cross(a, b, axis=dim)


def _matrix_norm_samples(dtype, device):
    return [Sample((_rect((3, 4), dtype, device),), dict(ord=o)) for o in (2, -2, "nuc")] + \
        [Sample((_rect((2, 3, 2), dtype, device),), dict(ord="nuc", keepdim=True)),
         Sample((_rect((3, 2), dtype, device),), dict(ord=2, dim=(1, 0)))]


def _np_matrix_norm(a, ord, dim=(-2, -1), keepdim=False):
    return np.asarray(np.linalg.norm(a, ord=ord, axis=dim, keepdims=keepdim), dtype=a.dtype)


def _norm_samples(dtype, device):
    cases = [((3, 4), {}), ((3, 4), dict(ord="fro")), ((3, 4), dict(ord="nuc")),
             ((3, 4), dict(ord=2)), ((3, 4), dict(ord=1)), ((5,), dict(ord=3)),
             ((2, 3, 4), {}), ((2, 3, 4), dict(dim=(1, 2), keepdim=True)),
             ((2, 3, 4), dict(ord=-2, dim=(2, 0)))]
    return [Sample((_rect(s, dtype, device) if len(s) > 1 else _t(s, dtype, device),), kw)
            for s, kw in cases]


def _np_norm(a, ord=None, dim=None, keepdim=False):
    return np.asarray(np.linalg.norm(a, ord=ord, axis=dim, keepdims=keepdim), a.dtype)


# ---------------------------------------------------------------------------------------------
# wrappers (module = corelib or torch): symmetric inputs, gauge-invariant outputs
def _sym(mod, A):
    return A + A.mT


def _cholesky_of(mod):
    def fn(A, upper=False):
        n = A.shape[-1]
        return mod.linalg.cholesky(A @ A.mT + n * mod.eye(n, dtype=A.dtype, device=A.device),
                                   upper=upper)
    return fn


def _eigh_of(mod):
    def fn(A, UPLO="L"):
        L, V = mod.linalg.eigh(_sym(mod, A), UPLO=UPLO)
        return L, mod.abs(V)
    return fn


def _eigvalsh_of(mod):
    return lambda A, UPLO="L": mod.linalg.eigvalsh(_sym(mod, A), UPLO=UPLO)


def _svd_of(mod):
    def fn(A, full_matrices=False):
        U, S, Vh = mod.linalg.svd(A, full_matrices=full_matrices)
        if not full_matrices:
            return mod.abs(U), S, mod.abs(Vh)
        # the columns past k = min(m, n) are any orthonormal basis of the complement: compare
        # the complement's projectors, which are unique, not the basis
        k = S.shape[-1]
        Uc, Vc = U[..., k:], Vh[..., k:, :]
        return (mod.abs(U[..., :k]), S, mod.abs(Vh[..., :k, :]),
                Uc @ Uc.transpose(-2, -1), Vc.transpose(-2, -1) @ Vc)
    return fn


def _legacy_svd_of(mod):
    def fn(A, some=True):
        U, S, V = mod.svd(A, some=some)
        return mod.abs(U), S, mod.abs(V)
    return fn


def _lstsq_of(mod):
    return lambda A, B, rcond=None, driver=None: mod.linalg.lstsq(A, B, rcond=rcond,
                                                                  driver=driver).solution


def _np_sym(A):
    return A + np.swapaxes(A, -1, -2)


def _np_cholesky(A, upper=False):
    n = A.shape[-1]
    L = np.linalg.cholesky(A @ np.swapaxes(A, -1, -2) + n * np.eye(n)) if A.size else A
    return np.swapaxes(L, -1, -2) if upper else L


def _np_eigh(A, UPLO="L"):
    if A.size == 0:
        return np.zeros(A.shape[:-1], A.dtype), A
    L, V = np.linalg.eigh(_np_sym(A), UPLO=UPLO)
    return L, np.abs(V)


def _np_svd(A, full_matrices=False):
    U, S, Vh = np.linalg.svd(A, full_matrices=full_matrices)
    if not full_matrices:
        return np.abs(U), S, np.abs(Vh)
    k = S.shape[-1]
    Uc, Vc = U[..., k:], Vh[..., k:, :]
    return (np.abs(U[..., :k]), S, np.abs(Vh[..., :k, :]),
            Uc @ np.swapaxes(Uc, -1, -2), np.swapaxes(Vc, -1, -2) @ Vc)


def _np_legacy_svd(A, some=True):
    U, S, Vh = np.linalg.svd(A, full_matrices=not some)
    return np.abs(U), S, np.abs(np.swapaxes(Vh, -1, -2))


def _np_solve(A, B, left=True):
    if not left:
        return np.swapaxes(_np_solve(np.swapaxes(A, -1, -2), np.swapaxes(B, -1, -2)), -1, -2)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    B2 = B[..., None] if vector else B
    if A.size == 0:
        return np.zeros(B2.shape, A.dtype)[..., 0] if vector else np.zeros(B.shape, A.dtype)
    X = np.linalg.solve(A, B2)
    return X[..., 0] if vector else X


def _np_slogdet(A):
    sign, logabs = np.linalg.slogdet(A)
    return np.asarray(sign, A.dtype), np.asarray(logabs, A.dtype)


def _np_qr(mode):
    def ref(A, mode=mode):
        return np.linalg.qr(A, mode=mode)
    return ref


def _np_pinv(A, hermitian=False):
    return np.linalg.pinv(A, hermitian=hermitian).astype(A.dtype)


def _np_rank(A, atol=None, rtol=None, hermitian=False):
    if A.size == 0:
        return np.zeros(A.shape[:-2], np.int64)
    s = np.abs(np.linalg.eigvalsh(A)) if hermitian else np.linalg.svd(A, compute_uv=False)
    if rtol is None:
        rtol = 0.0 if atol else np.finfo(A.dtype).eps * max(A.shape[-2:])
    tol = np.maximum(atol or 0.0, rtol * s.max(-1, keepdims=True))
    return np.asarray((s > tol).sum(-1), np.int64)


def _with(mod_fn):
    """(corelib callable, torch callable) for a wrapper taking the module."""
    def torch_ref(*args, **kwargs):
        import torch
        return mod_fn(torch)(*args, **kwargs)
    return mod_fn(corelib), torch_ref


_chol, _chol_t = _with(_cholesky_of)
_eigh_w, _eigh_t = _with(_eigh_of)
_eigvalsh_w, _eigvalsh_t = _with(_eigvalsh_of)
_svd_w, _svd_t = _with(_svd_of)
_lsvd_w, _lsvd_t = _with(_legacy_svd_of)
_lstsq_w, _lstsq_t = _with(_lstsq_of)

_MM_SCALES = [dict(), dict(beta=2, alpha=3), dict(beta=0)]
_MM_FLOAT_SCALES = [dict(beta=0.5, alpha=-1.5)]
L = corelib.linalg


# ---------------------------------------------------------------------------------------------
# special (forward-only) samples: rank-deficient and exactly singular matrices. Their entries
# are small integers, so LU with partial pivoting meets an exact zero pivot (det 0, slogdet
# (0, -inf)); cutoffs for pinv/matrix_rank/lstsq are given explicitly (1e-4 relative), far
# above the rounding noise of a computed zero singular value, so the references are stable.
RANK_DEFICIENT = [
    [[1, 2, 3], [2, 4, 6], [1, 0, 1]],                   # rank 2 (a doubled row)
    [[1, 2, 1], [0, 1, 0], [3, 1, 3], [2, 2, 2]],        # 4x3, rank 2 (equal columns)
    np.outer([1, 2, 3], [1, -1, 2, 0.5]).tolist(),       # 3x4, rank 1
    [[0, 0, 0], [0, 0, 0]],                              # rank 0
]
SINGULAR = [[[1, 2], [2, 4]], [[0, 0], [0, 0]], [[1, 2, 3], [1, 2, 3], [4, 5, 6]]]


def _deficient_samples(**kwargs):
    def samples(dtype, device):
        mats = [corelib.tensor(np.asarray(m, dtype=dtype), device=device) for m in RANK_DEFICIENT]
        out = [Sample((m,), dict(kwargs)) for m in mats]
        out.append(Sample((mats[2].mT,), dict(kwargs)))                   # a transposed view
        out.append(Sample((corelib.stack([mats[0], mats[0] * 0]),), dict(kwargs)))   # a batch
        return out
    return samples


def _singular_samples(dtype, device):
    mats = [corelib.tensor(np.asarray(m, dtype=dtype), device=device) for m in SINGULAR]
    return [Sample((m,)) for m in mats] + [Sample((mats[2].mT,)),
                                           Sample((corelib.stack([mats[0], mats[1]]),))]


def _deficient_lstsq_samples(dtype, device):
    out = []
    for m in RANK_DEFICIENT[:3]:
        A = corelib.tensor(np.asarray(m, dtype=dtype), device=device)
        # gelsd (SVD): PyTorch's default gelsy gave other (not minimum-norm) solutions here
        # after other work in the same process
        out.append(Sample((A, make_tensor((A.shape[0], 2), dtype, device)),
                          dict(rcond=1e-4, driver="gelsd")))
    return out


def _np_lstsq_min_norm(A, B, rcond=None, driver=None):
    return np.linalg.pinv(A.astype(np.float64), rcond=rcond) @ B


OPS = [
    OpInfo("matmul", corelib.matmul, _matmul_samples, dtypes=MATMUL_DTYPES, ref=np.matmul,
           gradgrad=True),
    OpInfo("matmul", lambda a, b: a @ b, _matmul_samples, dtypes=FLOATS, ref=np.matmul,
           torch_ref=lambda a, b: a @ b, variant="operator"),
    OpInfo("mm", corelib.mm, _mm_samples, dtypes=MATMUL_DTYPES, ref=np.matmul, gradgrad=True),
    OpInfo("bmm", corelib.bmm, _bmm_samples, dtypes=MATMUL_DTYPES, ref=np.matmul, gradgrad=True),
    OpInfo("mv", corelib.mv, _mv_samples, dtypes=MATMUL_DTYPES, ref=np.matmul, gradgrad=True),
    OpInfo("dot", corelib.dot, _vector_pair_samples, dtypes=MATMUL_DTYPES, ref=np.dot,
           gradgrad=True),
    OpInfo("vdot", corelib.vdot, _vector_pair_samples, dtypes=MATMUL_DTYPES, ref=np.vdot),
    OpInfo("inner", corelib.inner, _inner_samples, dtypes=MATMUL_DTYPES, ref=np.inner),
    OpInfo("outer", corelib.outer, _outer_samples, dtypes=MATMUL_DTYPES, ref=np.outer),
    OpInfo("ger", corelib.ger, _outer_samples, dtypes=FLOATS, ref=np.outer),
    OpInfo("addmm", corelib.addmm, _fused_samples("addmm", _MM_SCALES), dtypes=MATMUL_DTYPES,
           ref=lambda i, a, b, beta=1, alpha=1: (beta * i if beta else 0) + alpha * (a @ b),
           gradgrad=True),
    OpInfo("addmm", corelib.addmm, _fused_samples("addmm", _MM_FLOAT_SCALES), variant="float",
           ref=lambda i, a, b, beta=1, alpha=1: beta * i + alpha * (a @ b)),
    OpInfo("addmv", corelib.addmv, _fused_samples("addmv", _MM_SCALES + _MM_FLOAT_SCALES),
           ref=lambda i, a, b, beta=1, alpha=1: (beta * i if beta else 0) + alpha * (a @ b)),
    OpInfo("addr", corelib.addr, _fused_samples("addr", _MM_SCALES), dtypes=MATMUL_DTYPES,
           ref=lambda i, a, b, beta=1, alpha=1: (beta * i if beta else 0) + alpha * np.outer(a, b)),
    OpInfo("baddbmm", corelib.baddbmm, _fused_samples("baddbmm", _MM_SCALES + _MM_FLOAT_SCALES),
           ref=lambda i, a, b, beta=1, alpha=1: (beta * i if beta else 0) + alpha * (a @ b)),
    OpInfo("addbmm", corelib.addbmm, _fused_samples("addbmm", _MM_SCALES + _MM_FLOAT_SCALES),
           ref=lambda i, a, b, beta=1, alpha=1: (beta * i if beta else 0)
           + alpha * (a @ b).sum(0)),
    OpInfo("tensordot", corelib.tensordot, _tensordot_samples, dtypes=MATMUL_DTYPES,
           ref=lambda a, b, dims: np.tensordot(a, b, dims)),
    OpInfo("kron", corelib.kron, _kron_samples, dtypes=MATMUL_DTYPES, ref=np.kron),
    OpInfo("einsum", corelib.einsum, _einsum_samples, dtypes=MATMUL_DTYPES, ref=_np_einsum,
           gradgrad=True),
    OpInfo("multi_dot", L.multi_dot, _multi_dot_samples, ref=_np_multi_dot,
           torch_ref="linalg.multi_dot"),
    OpInfo("chain_matmul", corelib.chain_matmul, lambda dt, dev: [
        Sample(tuple(s.args[0])) for s in _multi_dot_samples(dt, dev)[::2]],
        ref=lambda *m: np.linalg.multi_dot(m)),
    # linalg
    OpInfo("linalg.inv", L.inv, _square_samples(), ref=np.linalg.inv, torch_ref="linalg.inv",
           gradgrad=True),
    OpInfo("inverse", corelib.inverse, _square_samples(sizes=((3, 3),)), ref=np.linalg.inv),
    OpInfo("linalg.det", L.det, _join(_square_samples(), _general_square_samples),
           ref=lambda a: np.asarray(np.linalg.det(a), a.dtype), torch_ref="linalg.det",
           gradgrad=True),
    OpInfo("det", corelib.det, _square_samples(sizes=((3, 3),)),
           ref=lambda a: np.asarray(np.linalg.det(a), a.dtype)),
    OpInfo("linalg.slogdet", L.slogdet, _join(_square_samples(), _general_square_samples),
           ref=_np_slogdet, torch_ref="linalg.slogdet"),
    OpInfo("logdet", corelib.logdet, _square_samples("spd", sizes=((3, 3), (2, 2, 2))),
           ref=lambda a: np.asarray(np.linalg.slogdet(a)[1], a.dtype)),
    OpInfo("linalg.solve", L.solve, _solve_samples, ref=_np_solve, torch_ref="linalg.solve",
           gradgrad=True),
    OpInfo("linalg.cholesky", _chol, _square_samples("general", sizes=((3, 3), (2, 2, 2),
                                                                      (0, 0))),
           ref=_np_cholesky, torch_ref=_chol_t, gradgrad=True),
    OpInfo("linalg.cholesky", lambda A: _chol(A, upper=True), _square_samples("general",
                                                                            sizes=((3, 3),)),
           ref=lambda A: _np_cholesky(A, upper=True), torch_ref=lambda A: _chol_t(A, upper=True),
           variant="upper"),
    OpInfo("cholesky", corelib.cholesky, _square_samples("spd", sizes=((3, 3),)),
           ref=np.linalg.cholesky, grad=False),
    OpInfo("linalg.qr", L.qr, _join(_rect_samples(), _empty_rect_samples()), ref=_np_qr("reduced"),
           torch_ref="linalg.qr"),
    OpInfo("linalg.qr", lambda A: L.qr(A, mode="complete"), _rect_samples(((3, 3), (2, 4)), False),
           ref=_np_qr("complete"), torch_ref=lambda A: __import__("torch").linalg.qr(
               A, mode="complete"), variant="complete"),
    OpInfo("linalg.qr", lambda A: L.qr(A, mode="r").R, _rect_samples(((3, 3), (4, 2))),
           ref=_np_qr("r"), torch_ref=lambda A: __import__("torch").linalg.qr(A, mode="r").R,
           variant="r", grad=False),
    OpInfo("qr", corelib.qr, _rect_samples(((4, 3),)), ref=_np_qr("reduced")),
    OpInfo("linalg.svd", _svd_w, _join(_rect_samples(), _empty_rect_samples()), ref=_np_svd,
           torch_ref=_svd_t),
    OpInfo("linalg.svd", lambda A: _svd_w(A, full_matrices=True),
           _rect_samples(((3, 3), (4, 2), (2, 3))), ref=lambda A: _np_svd(A, True),
           torch_ref=lambda A: _svd_t(A, full_matrices=True), variant="full", grad=False),
    OpInfo("svd", _lsvd_w, _rect_samples(((4, 3), (2, 3))), ref=_np_legacy_svd,
           torch_ref=_lsvd_t),
    OpInfo("linalg.svdvals", L.svdvals, _join(_rect_samples(), _empty_rect_samples()),
           ref=lambda a: np.linalg.svd(a, compute_uv=False) if a.size else
           np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), a.dtype), torch_ref="linalg.svdvals"),
    OpInfo("linalg.eigh", _eigh_w, _square_samples("general", sizes=((3, 3), (2, 2, 2), (0, 0))),
           ref=_np_eigh, torch_ref=_eigh_t),
    OpInfo("linalg.eigh", lambda A: _eigh_w(A, UPLO="U"), _square_samples("general",
                                                                          sizes=((3, 3),)),
           ref=lambda A: _np_eigh(A, "U"), torch_ref=lambda A: _eigh_t(A, UPLO="U"),
           variant="upper"),
    OpInfo("linalg.eigvalsh", _eigvalsh_w, _square_samples("general", sizes=((3, 3), (2, 2, 2))),
           ref=lambda A: np.linalg.eigvalsh(_np_sym(A)), torch_ref=_eigvalsh_t),
    OpInfo("linalg.pinv", L.pinv, _rect_samples(), ref=_np_pinv, torch_ref="linalg.pinv"),
    OpInfo("linalg.pinv", lambda A: L.pinv(A + A.mT, hermitian=True),
           _square_samples("spd", sizes=((3, 3),)), ref=lambda A: _np_pinv(_np_sym(A), True),
           torch_ref=lambda A: __import__("torch").linalg.pinv(A + A.mT, hermitian=True),
           variant="hermitian"),
    OpInfo("pinverse", corelib.pinverse, _rect_samples(((4, 3),)), ref=_np_pinv),
    OpInfo("linalg.lstsq", _lstsq_w, _lstsq_samples, ref=lambda A, B: np.linalg.lstsq(
        A, B, rcond=None)[0] if A.ndim == 2 else np.linalg.pinv(A) @ B, torch_ref=_lstsq_t),
    OpInfo("linalg.matrix_power", L.matrix_power, _power_samples, ref=_np_matrix_power,
           torch_ref="linalg.matrix_power"),
    OpInfo("matrix_power", corelib.matrix_power, lambda dt, dev: _power_samples(dt, dev)[:3],
           ref=_np_matrix_power),
    OpInfo("linalg.matrix_rank", L.matrix_rank, _rank_samples, ref=_np_rank,
           torch_ref="linalg.matrix_rank", grad=False),
    OpInfo("linalg.matrix_norm", L.matrix_norm, _matrix_norm_samples, ref=_np_matrix_norm,
           torch_ref="linalg.matrix_norm"),
    OpInfo("linalg.norm", L.norm, _norm_samples, ref=_np_norm, torch_ref="linalg.norm"),
    OpInfo("linalg.cross", L.cross, _cross_samples, dtypes=MATMUL_DTYPES, ref=_np_cross,
           torch_ref="linalg.cross"),
    OpInfo("cross", corelib.cross, lambda dt, dev: _cross_samples(dt, dev)[:4],
           dtypes=MATMUL_DTYPES, ref=lambda a, b, dim=None: np.cross(
               a, b, axis=-1 if dim is None else dim)),
]

_LINALG_SPECIAL = {
    "linalg.det": dict(special=_singular_samples),
    "det": dict(special=_singular_samples),
    "linalg.slogdet": dict(special=_singular_samples),
    "linalg.svdvals": dict(special=_deficient_samples()),
    "linalg.pinv": dict(special=_deficient_samples(rtol=1e-4),
                        special_ref=lambda A, rtol: np.linalg.pinv(
                            A.astype(np.float64), rcond=rtol)),
    "linalg.matrix_rank": dict(special=_join(_deficient_samples(rtol=1e-4),
                                             _deficient_samples(atol=0.5))),
    "linalg.lstsq": dict(special=_deficient_lstsq_samples, special_ref=_np_lstsq_min_norm),
}
# products: every sample refilled with NaN/+-inf/signed zeros (0 * inf, inf - inf and NaN
# propagate as in NumPy and PyTorch; beta=0 ignores the input, NaN included)
_PRODUCTS = ("matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
             "addmm[float]", "addmv", "addr", "baddbmm", "addbmm", "tensordot", "kron", "einsum")
for _info in OPS:
    for _key, _value in _LINALG_SPECIAL.get(_info.id, {}).items():
        setattr(_info, _key, _value)
    if _info.id in _PRODUCTS:
        _info.special = filled_special(_info.samples)
