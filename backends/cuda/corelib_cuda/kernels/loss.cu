// Class-index gathers and scatters of the losses: x (N, C, *d) read (or y written) at the class
// target[n, *d] of every (n, *d), and the negative log-likelihood reduced over the targets.
// meta: layout (strided_offsets) over the target's shape of the operands, where the class
// operand (x or y) enters without its class dim; `cstride` is that dim's stride and C its size.
// A target equal to `ignore` contributes nothing; any other target outside [0, C) makes the
// gathered value NaN (no host round trip to raise an error on the device) and is skipped by the
// scatters.
#include "reduction_block.cuh"

template <class T>
__device__ __forceinline__ typename Opmath<T>::type class_value(const T* __restrict__ x, i64 off,
                                                                 i64 k, i64 cstride, i64 C) {
  typedef typename Opmath<T>::type A;
  return (k >= 0 && k < C) ? load(x, off + k * cstride) : Limits<A>::quiet_nan();
}

// y = scale * x[target] (0 where ignored); meta operands: x, target, y
#define CLASS_GATHER_KERNEL(NAME, T)                                                           \
  extern "C" __global__ void NAME(const T* __restrict__ x, const i64* __restrict__ t,          \
                                  T* __restrict__ y, const i64* __restrict__ meta, int ndim,    \
                                  i64 n, i64 cstride, i64 C, i64 ignore, double scale) {       \
    typedef typename Opmath<T>::type A;                                                        \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      const i64 k = t[off[1]];                                                                 \
      const A v = k == ignore ? A(0) : A(scale) * class_value(x, off[0], k, cstride, C);       \
      y[off[2]] = convert<T>(v);                                                               \
    }                                                                                          \
  }

// y[target] = scale * g / count (y zero-filled; count an int64 device scalar, or null for 1);
// meta operands: g (broadcast), target, y
#define CLASS_SCATTER_KERNEL(NAME, T)                                                          \
  extern "C" __global__ void NAME(const T* __restrict__ g, const i64* __restrict__ t,          \
                                  T* __restrict__ y, const i64* __restrict__ meta, int ndim,    \
                                  i64 n, i64 cstride, i64 C, i64 ignore, double scale,          \
                                  const i64* __restrict__ count) {                             \
    typedef typename Opmath<T>::type A;                                                        \
    const A c = count ? A(*count) : A(1);                                                      \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      const i64 k = t[off[1]];                                                                 \
      if (k == ignore || k < 0 || k >= C) continue;                                            \
      y[off[2] + k * cstride] = convert<T>(A(scale) * load(g, off[0]) / c);                    \
    }                                                                                          \
  }

// One block: y = -sum(x[target]) over the non-ignored targets, divided by their count when
// `mean`; meta operands: x, target
#define NLL_REDUCE_KERNEL(NAME, T)                                                             \
  extern "C" __global__ void NAME(const T* __restrict__ x, const i64* __restrict__ t,          \
                                  T* __restrict__ y, const i64* __restrict__ meta, int ndim,    \
                                  i64 n, i64 cstride, i64 C, i64 ignore, int mean) {           \
    typedef typename Opmath<T>::type A;                                                        \
    Pair<A, i64> acc{A(0), 0};                                                                 \
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) {                                        \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      const i64 k = t[off[1]];                                                                 \
      if (k == ignore) continue;                                                               \
      acc.a -= class_value(x, off[0], k, cstride, C);                                          \
      acc.b += 1;                                                                              \
    }                                                                                          \
    acc = row_reduce(AddCombine(), acc);                                                       \
    if (threadIdx.x == 0) y[0] = convert<T>(mean ? acc.a / A(acc.b) : acc.a);                  \
  }

// One block: count = number of targets != ignore; meta: the target's layout
extern "C" __global__ void count_targets(const i64* __restrict__ t, i64* __restrict__ count,
                                         const i64* __restrict__ meta, int ndim, i64 n,
                                         i64 ignore) {
  i64 c = 0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) {
    i64 off[1];
    strided_offsets<1>(i, ndim, meta, off);
    c += t[off[0]] != ignore;
  }
  c = row_reduce(AddCombine(), c);
  if (threadIdx.x == 0) count[0] = c;
}
