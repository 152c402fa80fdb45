// Fused gradients of activations (ops/nn.py). threshold_backward: y = x > threshold ? g : 0
// over a broadcast of g and x (meta: strided_offsets layout of g, x, y; ndim 0 when all are
// contiguous and of one shape). float16 compares in float.
#include "common.cuh"

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

#define FUSED_KERNELS(SUFFIX, T)                                                               \
  extern "C" __global__ void threshold_backward_##SUFFIX(const T* g, const T* x, T* y,         \
                                                         const i64* meta, int ndim, i64 n,     \
                                                         double threshold) {                   \
    threshold_backward_impl<T>(g, x, y, meta, ndim, n, threshold);                             \
  }
