// Building blocks of the reduction, softmax, norm and loss kernels: NaN-aware comparisons,
// dtype limits, warp shuffles of accumulator structs and the block-level tree reduction.
#include "common.cuh"

template <class T> struct IsFloat { static const bool value = false; };
template <> struct IsFloat<float> { static const bool value = true; };
template <> struct IsFloat<double> { static const bool value = true; };

template <class T> __device__ __forceinline__ bool isnan_(T x) {
  if constexpr (IsFloat<T>::value) return isnan(x); else return false;
}

// Largest and smallest value of an arithmetic type (infinities for floats); quiet NaN.
template <class T> struct Limits;
#define LIMITS(T, LO, HI, NAN_)                                     \
  template <> struct Limits<T> {                                    \
    __device__ __forceinline__ static T lowest() { return LO; }     \
    __device__ __forceinline__ static T highest() { return HI; }    \
    __device__ __forceinline__ static T quiet_nan() { return NAN_; } \
  };
LIMITS(bool, false, true, false)
LIMITS(unsigned char, 0, 255, 0)
LIMITS(signed char, -128, 127, 0)
LIMITS(short, -32768, 32767, 0)
LIMITS(int, (-2147483647 - 1), 2147483647, 0)
LIMITS(long long, (-9223372036854775807LL - 1), 9223372036854775807LL, 0)
LIMITS(float, __int_as_float(0xff800000), __int_as_float(0x7f800000), __int_as_float(0x7fc00000))
LIMITS(double, __longlong_as_double(0xfff0000000000000LL),
       __longlong_as_double(0x7ff0000000000000LL), __longlong_as_double(0x7ff8000000000000LL))
#undef LIMITS

// maximum/minimum that propagate NaN (PyTorch's amax/amin)
template <class T> __device__ __forceinline__ T max_(T a, T b) {
  if (isnan_(a) || isnan_(b)) return isnan_(a) ? a : b;
  return a > b ? a : b;
}
template <class T> __device__ __forceinline__ T min_(T a, T b) {
  if (isnan_(a) || isnan_(b)) return isnan_(a) ? a : b;
  return a < b ? a : b;
}

// Two-field accumulators (value and index, sum and count, ...).
template <class A, class B> struct Pair { A a; B b; };
// Welford's running mean and sum of squared deviations of n values.
template <class A> struct Welford { A mean, m2; i64 n; };

template <class A> __device__ __forceinline__ Welford<A> welford_add(Welford<A> w, A x) {
  w.n += 1;
  const A delta = x - w.mean;
  w.mean += delta / A(w.n);
  w.m2 += delta * (x - w.mean);
  return w;
}
template <class A> __device__ __forceinline__ Welford<A> welford_merge(Welford<A> a, Welford<A> b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  const i64 n = a.n + b.n;
  const A delta = b.mean - a.mean, frac = A(b.n) / A(n);
  return Welford<A>{a.mean + delta * frac, a.m2 + b.m2 + delta * delta * A(a.n) * frac, n};
}

// combine functors for row_reduce
struct AddCombine {
  template <class A> __device__ __forceinline__ A combine(A a, A b) const { return a + b; }
  template <class A, class B> __device__ __forceinline__ Pair<A, B> combine(Pair<A, B> a,
                                                                            Pair<A, B> b) const {
    return Pair<A, B>{a.a + b.a, a.b + b.b};
  }
};
struct MaxCombine {
  template <class A> __device__ __forceinline__ A combine(A a, A b) const { return max_(a, b); }
};
struct WelfordCombine {
  template <class A> __device__ __forceinline__ Welford<A> combine(Welford<A> a,
                                                                   Welford<A> b) const {
    return welford_merge(a, b);
  }
};

// ---- warp shuffles, field by field for the accumulator structs
template <class T> __device__ __forceinline__ T shfl_down_(T v, int delta) {
  return __shfl_down_sync(0xffffffffu, v, delta);
}
__device__ __forceinline__ bool shfl_down_(bool v, int delta) {
  return __shfl_down_sync(0xffffffffu, (int)v, delta) != 0;
}
template <class A, class B> __device__ __forceinline__ Pair<A, B> shfl_down_(Pair<A, B> v, int d) {
  return Pair<A, B>{shfl_down_(v.a, d), shfl_down_(v.b, d)};
}
template <class A> __device__ __forceinline__ Welford<A> shfl_down_(Welford<A> v, int d) {
  return Welford<A>{shfl_down_(v.mean, d), shfl_down_(v.m2, d), shfl_down_(v.n, d)};
}
template <class T> __device__ __forceinline__ T shfl_idx_(T v, int lane) {
  return __shfl_sync(0xffffffffu, v, lane);
}
__device__ __forceinline__ bool shfl_idx_(bool v, int lane) {
  return __shfl_sync(0xffffffffu, (int)v, lane) != 0;
}
template <class A, class B> __device__ __forceinline__ Pair<A, B> shfl_idx_(Pair<A, B> v, int l) {
  return Pair<A, B>{shfl_idx_(v.a, l), shfl_idx_(v.b, l)};
}
template <class A> __device__ __forceinline__ Welford<A> shfl_idx_(Welford<A> v, int l) {
  return Welford<A>{shfl_idx_(v.mean, l), shfl_idx_(v.m2, l), shfl_idx_(v.n, l)};
}

// Combine the accumulators of the blockDim.x threads of each row (threadIdx.y) of the block
// with op.combine; every thread of the row gets the row's result. blockDim.x is a power of two
// and the block has a multiple of 32 threads (at most 1024): rows of < 32 threads share a warp
// (shuffles only), longer rows combine their warps' results through shared memory. Every
// thread of the block must call this (it synchronises the block when rows span warps).
template <class Op, class Acc>
__device__ __forceinline__ Acc row_reduce(const Op& op, Acc acc) {
  const int bx = blockDim.x, tx = threadIdx.x, ty = threadIdx.y;
  const int lane = (ty * bx + tx) & 31;
  for (int d = (bx < 32 ? bx : 32) / 2; d > 0; d >>= 1) acc = op.combine(acc, shfl_down_(acc, d));
  if (bx <= 32) return shfl_idx_(acc, lane - tx);   // the row's first lane holds its result
  __shared__ __align__(16) unsigned char raw[32 * sizeof(Acc)];
  Acc* partial = reinterpret_cast<Acc*>(raw);
  const int warps = bx / 32;
  if (lane == 0) partial[ty * warps + tx / 32] = acc;
  __syncthreads();
  if (tx == 0) {
    for (int w = 1; w < warps; ++w) acc = op.combine(acc, partial[ty * warps + w]);
    partial[ty * warps] = acc;
  }
  __syncthreads();
  acc = partial[ty * warps];
  __syncthreads();   // the buffer is reused by the next call
  return acc;
}

// Element offsets of row o and of element r within the row, for N strided operands viewed as
// [kept dims, reduced dims]: meta = [kept layout, reduced layout], each as strided_offsets
// reads it (shape then the strides of every operand), nk / nr dims long.
template <int N>
__device__ __forceinline__ void row_offsets(i64 o, int nk, const i64* __restrict__ meta,
                                            i64 (&off)[N]) {
  strided_offsets<N>(o, nk, meta, off);
}
template <int N>
__device__ __forceinline__ void elem_offsets(i64 r, int nk, int nr, const i64* __restrict__ meta,
                                             const i64 (&row)[N], i64 (&off)[N]) {
  if (nr == 1) {   // the common case: one (coalesced) reduced dim
    const i64* s = meta + (N + 1) * nk + 1;
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = row[k] + r * s[k];
    return;
  }
  strided_offsets<N>(r, nr, meta + (N + 1) * nk, off);
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] += row[k];
}

// Loop over the rows of the grid, blockDim.y rows per block; uniform across the block, so
// row_reduce may be called inside. `o` is this thread's row (may be >= n: inactive).
#define ROW_LOOP(o, n)                                                                        \
  for (i64 o##_base = (i64)blockIdx.x * blockDim.y; o##_base < (n);                           \
       o##_base += (i64)gridDim.x * blockDim.y)                                               \
    for (i64 o = o##_base + threadIdx.y, o##_once = 0; o##_once < 1; ++o##_once)
