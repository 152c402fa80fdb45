// Fused kernels of training hot paths (ops/nn.py); float16 computes in float.
// threshold_backward: y = x > threshold ? g : 0 over a broadcast of g and x (meta:
// strided_offsets layout of g, x, y; ndim 0 when all are contiguous and of one shape).
// layer_norm / layer_norm_backward: contiguous (rows, n) operands; a row is handled by the
// blockDim.x threads of one block row (Welford statistics or sums through row_reduce), the
// weight and bias gradients by layer_norm_params_backward, one thread per column.
#include "reduction_block.cuh"

template <class T>
__device__ __forceinline__ void threshold_backward_impl(const T* __restrict__ g,
                                                        const T* __restrict__ x,
                                                        T* __restrict__ y,
                                                        const i64* __restrict__ meta, int ndim,
                                                        i64 n, double threshold) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(i, n) {
    i64 off[3];
    strided_offsets<3>(i, ndim, meta, off);
    y[off[2]] = load(x, off[1]) > A(threshold) ? g[off[0]] : convert<T>(A(0));
  }
}

// y = (x - mean) * rstd * w + b per row; mean and rstd written per row
template <class T>
__device__ __forceinline__ void layer_norm_rows(const T* __restrict__ x, const T* __restrict__ w,
                                                const T* __restrict__ b, T* __restrict__ y,
                                                T* __restrict__ mean_out, T* __restrict__ rstd_out,
                                                i64 rows, i64 len, double eps, int has_w,
                                                int has_b) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    const i64 n = active ? len : 0, base = active ? o * len : 0;
    Welford<A> acc{A(0), A(0), 0};
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) acc = welford_add(acc, load(x, base + r));
    acc = row_reduce(WelfordCombine(), acc);
    const A mean = acc.mean, rstd = A(1) / sqrt(acc.m2 / A(len) + A(eps));
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      A v = (load(x, base + r) - mean) * rstd;
      if (has_w) v *= load(w, r);
      if (has_b) v += load(b, r);
      y[base + r] = convert<T>(v);
    }
    if (active && threadIdx.x == 0) {
      mean_out[o] = convert<T>(mean);
      rstd_out[o] = convert<T>(rstd);
    }
  }
}

// dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)), gw = g * w, xhat = (x - mean) * rstd
template <class T>
__device__ __forceinline__ void layer_norm_backward_rows(const T* __restrict__ g,
                                                         const T* __restrict__ x,
                                                         const T* __restrict__ mean_in,
                                                         const T* __restrict__ rstd_in,
                                                         const T* __restrict__ w,
                                                         T* __restrict__ dx, i64 rows, i64 len,
                                                         int has_w) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    const i64 n = active ? len : 0, base = active ? o * len : 0;
    const A mean = active ? load(mean_in, o) : A(0), rstd = active ? load(rstd_in, o) : A(0);
    Pair<A, A> s{A(0), A(0)};   // sum(gw), sum(gw * xhat)
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      const A gw = load(g, base + r) * (has_w ? load(w, r) : A(1));
      s.a += gw;
      s.b += gw * (load(x, base + r) - mean) * rstd;
    }
    s = row_reduce(AddCombine(), s);
    const A c1 = s.a / A(len), c2 = s.b / A(len);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      const A gw = load(g, base + r) * (has_w ? load(w, r) : A(1));
      const A xhat = (load(x, base + r) - mean) * rstd;
      dx[base + r] = convert<T>(rstd * (gw - c1 - xhat * c2));
    }
  }
}

// dw[c] = sum over rows of g * xhat, db[c] = sum over rows of g
template <class T>
__device__ __forceinline__ void layer_norm_params_backward_cols(
    const T* __restrict__ g, const T* __restrict__ x, const T* __restrict__ mean_in,
    const T* __restrict__ rstd_in, T* __restrict__ dw, T* __restrict__ db, i64 rows, i64 len,
    int want_w, int want_b) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(c, len) {
    A sw = A(0), sb = A(0);
    for (i64 r = 0; r < rows; ++r) {
      const A gv = load(g, r * len + c);
      sb += gv;
      if (want_w) sw += gv * (load(x, r * len + c) - load(mean_in, r)) * load(rstd_in, r);
    }
    if (want_w) dw[c] = convert<T>(sw);
    if (want_b) db[c] = convert<T>(sb);
  }
}

#define FUSED_KERNELS(SUFFIX, T)                                                               \
  extern "C" __global__ void threshold_backward_##SUFFIX(const T* g, const T* x, T* y,         \
                                                         const i64* meta, int ndim, i64 n,     \
                                                         double threshold) {                   \
    threshold_backward_impl<T>(g, x, y, meta, ndim, n, threshold);                             \
  }                                                                                            \
  extern "C" __global__ void layer_norm_##SUFFIX(const T* x, const T* w, const T* b, T* y,     \
                                                 T* mean, T* rstd, i64 rows, i64 len,          \
                                                 double eps, int has_w, int has_b) {           \
    layer_norm_rows<T>(x, w, b, y, mean, rstd, rows, len, eps, has_w, has_b);                  \
  }                                                                                            \
  extern "C" __global__ void layer_norm_backward_##SUFFIX(const T* g, const T* x,              \
                                                          const T* mean, const T* rstd,        \
                                                          const T* w, T* dx, i64 rows,         \
                                                          i64 len, int has_w) {                \
    layer_norm_backward_rows<T>(g, x, mean, rstd, w, dx, rows, len, has_w);                    \
  }                                                                                            \
  extern "C" __global__ void layer_norm_params_backward_##SUFFIX(                              \
      const T* g, const T* x, const T* mean, const T* rstd, T* dw, T* db, i64 rows, i64 len,   \
      int want_w, int want_b) {                                                                \
    layer_norm_params_backward_cols<T>(g, x, mean, rstd, dw, db, rows, len, want_w, want_b);   \
  }
