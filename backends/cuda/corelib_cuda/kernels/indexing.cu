// Indexing kernels, instantiated per dtype by corelib_cuda/ops/indexing.py:
//  * along one dim (gather, index_select, scatter/scatter_reduce, index_add/copy/fill and the
//    backwards): the iteration runs over a broadcast shape with strided_offsets<3> giving the
//    offsets of (destination or source with stride 0 along the dim, index, other operand); the
//    index value then selects the position along the dim;
//  * advanced indexing (x[key], x[key] = v, index_put): index_offsets turns the K broadcast
//    index arrays into element offsets, then index_read / index_write iterate over
//    (index dims..., remaining dims...) and add the offset of the index position.
// Negative indices wrap (the host checked the bounds). Repeated positions combine atomically.
#include "common.cuh"

// combine modes (ops/indexing.py uses the same numbers)
#define MODE_STORE 0
#define MODE_ADD 1
#define MODE_MUL 2
#define MODE_MAX 3
#define MODE_MIN 4

template <class T> struct IsFloat { static const bool value = false; };
template <> struct IsFloat<float> { static const bool value = true; };
template <> struct IsFloat<double> { static const bool value = true; };

template <class T> __device__ __forceinline__ bool is_nan(T x) { return x != x; }

// mode(a, b) in the arithmetic type; max/min propagate NaN (as NumPy's maximum/minimum).
template <class T> __device__ __forceinline__ T combine(int mode, T a, T b) {
  switch (mode) {
    case MODE_ADD: return T(a + b);
    case MODE_MUL: return T(a * b);
    case MODE_MAX: return (is_nan(a) || a > b) ? a : b;
    case MODE_MIN: return (is_nan(a) || a < b) ? a : b;
    default: return b;
  }
}

template <int S> struct Word;
template <> struct Word<2> { typedef unsigned short type; };
template <> struct Word<4> { typedef unsigned int type; };
template <> struct Word<8> { typedef unsigned long long type; };

// *p = mode(*p, v) atomically: a compare-and-swap loop on the word holding *p (for 1-byte
// types the aligned 32-bit word around it).
template <class T>
__device__ void atomic_combine(T* p, typename Opmath<T>::type v, int mode) {
  if constexpr (sizeof(T) == 1) {
    unsigned int* word = reinterpret_cast<unsigned int*>(reinterpret_cast<u64>(p) & ~3ull);
    const unsigned int shift = (unsigned int)(reinterpret_cast<u64>(p) & 3ull) * 8u;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      unsigned char byte = (unsigned char)(assumed >> shift);
      const T next = convert<T>(combine(mode, load(reinterpret_cast<const T*>(&byte), 0), v));
      byte = *reinterpret_cast<const unsigned char*>(&next);
      old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | ((unsigned int)byte << shift));
    } while (old != assumed);
  } else {
    typedef typename Word<sizeof(T)>::type W;
    W* word = reinterpret_cast<W*>(p);
    W old = *word, assumed;
    do {
      assumed = old;
      const T next = convert<T>(combine(mode, load(reinterpret_cast<const T*>(&assumed), 0), v));
      old = atomicCAS(word, assumed, *reinterpret_cast<const W*>(&next));
    } while (old != assumed);
  }
}

// atomic *p += v: the hardware atomicAdd where CUDA has one, else the CAS loop
template <class T> __device__ __forceinline__ void atomic_add(T* p, typename Opmath<T>::type v) {
  atomic_combine(p, v, MODE_ADD);
}
template <> __device__ __forceinline__ void atomic_add<float>(float* p, float v) {
  atomicAdd(p, v);
}
template <> __device__ __forceinline__ void atomic_add<double>(double* p, double v) {
  atomicAdd(p, v);
}
template <> __device__ __forceinline__ void atomic_add<int>(int* p, int v) { atomicAdd(p, v); }
template <> __device__ __forceinline__ void atomic_add<long long>(long long* p, long long v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);   // two's complement
}
template <> __device__ __forceinline__ void atomic_add<__half>(__half* p, float v) {
  atomicAdd(p, __float2half(v));
}

// Write v into *p: stored, or combined with the value there (atomically: indices may repeat).
template <class T>
__device__ __forceinline__ void apply(T* p, typename Opmath<T>::type v, int mode) {
  if (mode == MODE_STORE) *p = convert<T>(v);
  else if (mode == MODE_ADD) atomic_add(p, v);
  else atomic_combine(p, v, mode);
}

// out[o] = src[s + index[x] * dim_stride] at every position (s, x, o) of the iteration shape.
#define GATHER_DIM_KERNEL(NAME, T)                                                             \
  extern "C" __global__ void NAME(const T* src, const i64* __restrict__ index, T* out,         \
                                  const i64* __restrict__ meta, int ndim, i64 n,               \
                                  i64 dim_stride, i64 dim_size) {                              \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      i64 k = index[off[1]];                                                                   \
      if (k < 0) k += dim_size;                                                                \
      out[off[2]] = src[off[0] + k * dim_stride];                                              \
    }                                                                                          \
  }

// dst[d + index[x] * dim_stride] (mode)= alpha * src[s] (the scalar s_f/s_i where src is null)
// at every position (d, x, s) of the iteration shape.
#define SCATTER_DIM_KERNEL(NAME, T)                                                            \
  extern "C" __global__ void NAME(T* dst, const i64* __restrict__ index, const T* src,         \
                                  const i64* __restrict__ meta, int ndim, i64 n,               \
                                  i64 dim_stride, i64 dim_size, int mode, double s_f, i64 s_i, \
                                  double alpha_f, i64 alpha_i) {                               \
    typedef typename Opmath<T>::type O;                                                        \
    const O scalar = scalar_of<O>(s_f, s_i), alpha = scalar_of<O>(alpha_f, alpha_i);           \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      i64 k = index[off[1]];                                                                   \
      if (k < 0) k += dim_size;                                                                \
      const O v = src ? load(src, off[2]) : scalar;                                            \
      apply(dst + off[0] + k * dim_stride, O(v * alpha), mode);                                \
    }                                                                                          \
  }

// scatter_reduce's mean: out[i] /= max(count[i], 1) (floor division for integers); both
// contiguous.
#define MEAN_DIVIDE_KERNEL(NAME, T)                                                            \
  extern "C" __global__ void NAME(T* out, const i64* __restrict__ count, i64 n) {              \
    typedef typename Opmath<T>::type O;                                                        \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      const i64 c = count[i] > 1 ? count[i] : 1;                                               \
      const O x = load(out, i);                                                                \
      if constexpr (IsFloat<O>::value) {                                                       \
        out[i] = convert<T>((double)x / (double)c);                                            \
      } else {                                                                                 \
        const i64 v = (i64)x, q = v / c;                                                       \
        out[i] = convert<T>(q * c != v && v < 0 ? q - 1 : q);                                  \
      }                                                                                        \
    }                                                                                          \
  }

// offs[j] = sum_k wrap(idx[k * nb + j], size_k) * stride_k over the K broadcast index arrays
// stacked in idx; meta = [sizes[K], strides[K]] of the indexed dims.
#define INDEX_OFFSETS_KERNEL(NAME)                                                             \
  extern "C" __global__ void NAME(const i64* __restrict__ idx, i64* __restrict__ offs,         \
                                  const i64* __restrict__ meta, int k, i64 nb) {               \
    GRID_STRIDE_LOOP(j, nb) {                                                                  \
      i64 o = 0;                                                                               \
      for (int t = 0; t < k; ++t) {                                                            \
        i64 v = idx[t * nb + j];                                                               \
        if (v < 0) v += meta[t];                                                               \
        o += v * meta[k + t];                                                                  \
      }                                                                                        \
      offs[j] = o;                                                                             \
    }                                                                                          \
  }

// Advanced read: out[o] = base[offs[i / nr] + b] over (index dims..., remaining dims...), where
// strided_offsets<2> gives (b, o) and b's strides are 0 on the index dims (nr: remaining size).
#define INDEX_READ_KERNEL(NAME, T)                                                             \
  extern "C" __global__ void NAME(const T* base, T* out, const i64* __restrict__ offs,         \
                                  const i64* __restrict__ meta, int ndim, i64 n, i64 nr) {     \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      out[off[1]] = base[offs[i / nr] + off[0]];                                               \
    }                                                                                          \
  }

// Advanced write: base[offs[i / nr] + b] (mode)= vals[v], as INDEX_READ_KERNEL.
#define INDEX_WRITE_KERNEL(NAME, T)                                                            \
  extern "C" __global__ void NAME(T* base, const T* vals, const i64* __restrict__ offs,        \
                                  const i64* __restrict__ meta, int ndim, i64 n, i64 nr,       \
                                  int mode) {                                                  \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      apply(base + offs[i / nr] + off[0], load(vals, off[1]), mode);                           \
    }                                                                                          \
  }
