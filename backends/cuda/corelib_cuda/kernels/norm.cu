// normalize: (x - mean) / sqrt(biased var + eps) over a set of dims (the core of layer_norm,
// group_norm, instance_norm and batch_norm in training), and its backward. A row (one index of
// the kept dims, e.g. a sample for layer_norm or a channel for batch_norm) is handled by the
// blockDim.x threads of one block row: Welford statistics reduced with row_reduce, then the
// elementwise write. float16 computes in float. meta: [row layout, reduced layout] of the
// operands (x, y) or (g, x, y), as row_offsets / elem_offsets read it; any strides.
#include "reduction_block.cuh"

// mean and 1 / sqrt(var + eps) of the row's x (operand K of the layout)
template <int N, int K, class T, class A>
__device__ __forceinline__ void row_moments(const T* __restrict__ x, const i64* __restrict__ meta,
                                            int nk, int nr, i64 n, const i64 (&row)[N],
                                            double eps, A& mean, A& rstd) {
  Welford<A> w{A(0), A(0), 0};
  i64 off[N];
  for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
    elem_offsets<N>(r, nk, nr, meta, row, off);
    w = welford_add(w, load(x, off[K]));
  }
  w = row_reduce(WelfordCombine(), w);
  mean = w.mean;
  rstd = A(1) / sqrt(w.m2 / A(w.n) + A(eps));
}

template <class T>
__device__ __forceinline__ void normalize_rows(const T* __restrict__ x, T* __restrict__ y,
                                               const i64* __restrict__ meta, int nk, int nr,
                                               i64 rows, i64 len, double eps) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    i64 row[2] = {0, 0}, off[2];
    if (active) row_offsets<2>(o, nk, meta, row);
    const i64 n = active ? len : 0;
    A mean, rstd;
    row_moments<2, 0>(x, meta, nk, nr, n, row, eps, mean, rstd);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<2>(r, nk, nr, meta, row, off);
      y[off[1]] = convert<T>((load(x, off[0]) - mean) * rstd);
    }
  }
}

// y = rstd * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mean) * rstd
template <class T>
__device__ __forceinline__ void normalize_backward_rows(const T* __restrict__ g,
                                                        const T* __restrict__ x,
                                                        T* __restrict__ y,
                                                        const i64* __restrict__ meta, int nk,
                                                        int nr, i64 rows, i64 len, double eps) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    i64 row[3] = {0, 0, 0}, off[3];
    if (active) row_offsets<3>(o, nk, meta, row);
    const i64 n = active ? len : 0;
    A mean, rstd;
    row_moments<3, 1>(x, meta, nk, nr, n, row, eps, mean, rstd);
    Pair<A, A> s{A(0), A(0)};   // sum(g), sum(g * xhat)
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<3>(r, nk, nr, meta, row, off);
      const A gv = load(g, off[0]);
      s.a += gv;
      s.b += gv * (load(x, off[1]) - mean) * rstd;
    }
    s = row_reduce(AddCombine(), s);
    const A mean_g = s.a / A(len), mean_gx = s.b / A(len);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<3>(r, nk, nr, meta, row, off);
      const A xhat = (load(x, off[1]) - mean) * rstd;
      y[off[2]] = convert<T>(rstd * (load(g, off[0]) - mean_g - xhat * mean_gx));
    }
  }
}

#define NORM_KERNELS(SUFFIX, T)                                                                \
  extern "C" __global__ void normalize_##SUFFIX(const T* x, T* y, const i64* meta, int nk,     \
                                                int nr, i64 rows, i64 len, double eps) {       \
    normalize_rows<T>(x, y, meta, nk, nr, rows, len, eps);                                     \
  }                                                                                            \
  extern "C" __global__ void normalize_backward_##SUFFIX(const T* g, const T* x, T* y,         \
                                                         const i64* meta, int nk, int nr,       \
                                                         i64 rows, i64 len, double eps) {      \
    normalize_backward_rows<T>(g, x, y, meta, nk, nr, rows, len, eps);                         \
  }
