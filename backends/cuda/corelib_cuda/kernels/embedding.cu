// Embedding lookups and their backward, max-norm renormalisation, one-hot encoding.
// Index arrays (I: int or long long) are contiguous. Indices outside [0, num) are never
// dereferenced: the lookup gives a zero row and the backward drops them (checking on the host
// would synchronise the device on every call; PyTorch raises a device-side assert there).
#include "common.cuh"

// out[r, j] = w[idx[r], j]; w is a strided (num, dim) matrix (element strides ws0, ws1).
#define EMBEDDING_KERNEL(NAME, T, I)                                                           \
  extern "C" __global__ void NAME(const T* __restrict__ w, const I* __restrict__ idx,         \
                                  T* __restrict__ out, i64 rows, i64 dim, i64 num, i64 ws0,    \
                                  i64 ws1) {                                                   \
    GRID_STRIDE_LOOP(i, rows * dim) {                                                          \
      const i64 e = (i64)idx[i / dim];                                                         \
      out[i] = (e >= 0 && e < num) ? w[e * ws0 + (i % dim) * ws1] : convert<T>(0);            \
    }                                                                                          \
  }

// acc[idx[r], j] += g[r, j] (atomicAdd in the accumulation type A); rows == padding_idx are
// skipped. g is strided (meta as strided_offsets), acc a zeroed contiguous (num, dim).
#define EMBEDDING_BACKWARD_KERNEL(NAME, T, I, A)                                               \
  extern "C" __global__ void NAME(const T* __restrict__ g, const I* __restrict__ idx,         \
                                  A* __restrict__ acc, const i64* __restrict__ meta, int ndim, \
                                  i64 n, i64 dim, i64 num, i64 padding_idx) {                  \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      const i64 e = (i64)idx[i / dim];                                                         \
      if (e < 0 || e >= num || e == padding_idx) continue;                                     \
      i64 off[1];                                                                              \
      strided_offsets<1>(i, ndim, meta, off);                                                  \
      atomicAdd(acc + e * dim + i % dim, (A)load(g, off[0]));                                  \
    }                                                                                          \
  }

// Block-wide sum (max when use_max) of v; every thread gets the result. Needs blockDim.x a
// multiple of 32 (at most 1024) and 32 V of shared scratch.
template <class V>
__device__ V block_reduce(V v, bool use_max, V* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int delta = 16; delta > 0; delta /= 2) {
    const V other = __shfl_down_sync(0xffffffffu, v, delta);
    v = use_max ? (other > v ? other : v) : v + other;
  }
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? scratch[lane] : V(0);
    for (int delta = 16; delta > 0; delta /= 2) {
      const V other = __shfl_down_sync(0xffffffffu, v, delta);
      v = use_max ? (other > v ? other : v) : v + other;
    }
    if (lane == 0) scratch[0] = v;
  }
  __syncthreads();
  const V result = scratch[0];
  __syncthreads();   // scratch is reused by the next call
  return result;
}

// Rescale in place each row of w used by idx whose norm_type-norm exceeds max_norm, to
// max_norm / (norm + 1e-7) times itself. One block per index entry (grid-stride); a row is
// handled once, by the block that claims it first in ``claimed`` (zeroed int flags, num long).
#define EMBEDDING_RENORM_KERNEL(NAME, T, I)                                                    \
  extern "C" __global__ void NAME(T* w, const I* __restrict__ idx, int* claimed, i64 rows,    \
                                  i64 dim, i64 num, i64 ws0, i64 ws1, double max_norm,         \
                                  double norm_type) {                                          \
    typedef typename Opmath<T>::type V;                                                        \
    __shared__ V scratch[32];                                                                  \
    __shared__ int mine;                                                                       \
    const bool inf_norm = isinf(norm_type);                                                    \
    const V p = V(norm_type);                                                                  \
    for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {                                       \
      const i64 e = (i64)idx[r];                                                               \
      if (threadIdx.x == 0)                                                                    \
        mine = e >= 0 && e < num && atomicCAS(claimed + e, 0, 1) == 0;                         \
      __syncthreads();                                                                         \
      if (mine) {                                                                              \
        T* row = w + e * ws0;                                                                  \
        V part = V(0);                                                                         \
        for (i64 j = threadIdx.x; j < dim; j += blockDim.x) {                                  \
          const V a = fabs(load(row, j * ws1));                                                \
          const V term = inf_norm ? a : norm_type == 0 ? V(a != V(0)) : norm_type == 1 ? a     \
                         : norm_type == 2 ? a * a : pow(a, p);                                 \
          part = inf_norm ? (term > part ? term : part) : part + term;                         \
        }                                                                                      \
        const V total = block_reduce(part, inf_norm, scratch);                                 \
        const V norm = (inf_norm || norm_type == 0 || norm_type == 1) ? total                  \
                       : norm_type == 2 ? sqrt(total) : pow(total, V(1) / p);                  \
        if (norm > V(max_norm)) {                                                              \
          const V scale = V(max_norm) / (norm + V(1e-7));                                      \
          for (i64 j = threadIdx.x; j < dim; j += blockDim.x)                                  \
            row[j * ws1] = convert<T>(load(row, j * ws1) * scale);                             \
        }                                                                                      \
      }                                                                                        \
      __syncthreads();                                                                         \
    }                                                                                          \
  }

// out[r, c] = (idx[r] == c), int64 (rows, classes).
extern "C" __global__ void one_hot(const long long* __restrict__ idx, long long* __restrict__ out,
                                   i64 rows, i64 classes) {
  GRID_STRIDE_LOOP(i, rows * classes) out[i] = idx[i / classes] == i % classes;
}

// range[0] = min(range[0], min of idx), range[1] = max(range[1], max of idx) (one atomic per
// thread; the host initialises range).
extern "C" __global__ void index_range(const long long* __restrict__ idx, i64 n,
                                       long long* range) {
  long long lo = 0x7fffffffffffffffLL, hi = -0x7fffffffffffffffLL - 1;
  GRID_STRIDE_LOOP(i, n) {
    lo = idx[i] < lo ? idx[i] : lo;
    hi = idx[i] > hi ? idx[i] : hi;
  }
  atomicMin(range, lo);
  atomicMax(range + 1, hi);
}
