// Shape kernels (views and most copies are composed from the strided copy in ops/shape.py):
// tril / triu, instantiated per dtype by corelib_cuda/ops/shape.py.
#include "common.cuh"

// out = the lower (upper == 0: col - row <= k) or upper (col - row >= k) triangle of the last
// two dims of the strided a; out is contiguous, so (row, col) come from the linear index.
#define TRIANGLE_KERNEL(NAME, T)                                                               \
  extern "C" __global__ void NAME(const T* a, T* out, const i64* __restrict__ meta, int ndim,  \
                                  i64 n, i64 rows, i64 cols, i64 k, int upper) {               \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      const i64 col = i % cols, row = (i / cols) % rows;                                       \
      const bool keep = upper ? col - row >= k : col - row <= k;                               \
      out[off[1]] = keep ? a[off[0]] : convert<T>(0);                                          \
    }                                                                                          \
  }
