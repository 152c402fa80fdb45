// Sliding-window geometry shared by the convolution (conv.cu) and pooling (pool.cu) kernels.
// Tensors are (N, C, *spatial) with up to NN_MAX_SPATIAL spatial dims; every operand is read
// through its own element strides, so strided views need no copy.
#include "common.cuh"

#define NN_MAX_SPATIAL 3

// meta = [in[nsp], out[nsp], k[nsp], s[nsp], p[nsp], d[nsp], a[nsp + 2], b[nsp + 2]]:
// input and output spatial sizes, kernel size, stride, low-side padding and dilation per
// spatial dim, then the element strides (n, c, spatial...) of two operands a and b (what a
// and b are, and which fields are used, is up to each kernel).
struct Window {
  int nsp;
  i64 in[NN_MAX_SPATIAL], out[NN_MAX_SPATIAL], k[NN_MAX_SPATIAL], s[NN_MAX_SPATIAL],
      p[NN_MAX_SPATIAL], d[NN_MAX_SPATIAL], a[NN_MAX_SPATIAL + 2], b[NN_MAX_SPATIAL + 2];

  __device__ __forceinline__ void load(const i64* __restrict__ meta, int nsp_) {
    nsp = nsp_;
    for (int i = 0; i < nsp; ++i) {
      in[i] = meta[i];
      out[i] = meta[nsp + i];
      k[i] = meta[2 * nsp + i];
      s[i] = meta[3 * nsp + i];
      p[i] = meta[4 * nsp + i];
      d[i] = meta[5 * nsp + i];
    }
    for (int i = 0; i < nsp + 2; ++i) {
      a[i] = meta[6 * nsp + i];
      b[i] = meta[7 * nsp + 2 + i];
    }
  }
};

__device__ __forceinline__ i64 numel_of(const i64* sizes, int nsp) {
  i64 n = 1;
  for (int i = 0; i < nsp; ++i) n *= sizes[i];
  return n;
}

// Row-major coordinates of linear index i over sizes[nsp].
__device__ __forceinline__ void unravel(i64 i, const i64* sizes, int nsp, i64* coord) {
  for (int d = nsp - 1; d >= 0; --d) {
    coord[d] = i % sizes[d];
    i /= sizes[d];
  }
}

template <class T> __device__ __forceinline__ bool nan_(T) { return false; }
__device__ __forceinline__ bool nan_(float v) { return isnan(v); }
__device__ __forceinline__ bool nan_(double v) { return isnan(v); }

// Max-pool update: the first maximum wins, and a NaN wins over everything; of several NaNs
// the last one (PyTorch: `val > maxval || isnan(val)`, on CPU and CUDA).
template <class V>
__device__ __forceinline__ bool takes_max(V v, V best, i64 best_idx) {
  return best_idx < 0 || v > best || nan_(v);
}
