// Helpers shared by every corelib CUDA source (inlined into each source by corelib_cuda.sources).
#include <cuda_fp16.h>

typedef long long i64;
typedef unsigned long long u64;

// Grid-stride loop over [0, n): any grid size covers any n.
#define GRID_STRIDE_LOOP(i, n) \
  for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (i64)blockDim.x * gridDim.x)

// The arithmetic ("opmath") type of a storage type: __half computes in float, as PyTorch does.
template <class T> struct Opmath { typedef T type; };
template <> struct Opmath<__half> { typedef float type; };

template <class T> __device__ __forceinline__ typename Opmath<T>::type load(const T* p, i64 off) {
  return p[off];
}
template <> __device__ __forceinline__ float load<__half>(const __half* p, i64 off) {
  return __half2float(p[off]);
}

// Conversion to a storage type: C++ casts, except bool is (x != 0) and __half rounds to nearest.
template <class To> struct Convert {
  template <class From> __device__ __forceinline__ static To from(From x) { return (To)x; }
};
template <> struct Convert<bool> {
  template <class From> __device__ __forceinline__ static bool from(From x) { return x != From(0); }
};
template <> struct Convert<__half> {
  template <class From> __device__ __forceinline__ static __half from(From x) {
    return __float2half((float)x);
  }
};
template <class To, class From> __device__ __forceinline__ To convert(From x) {
  return Convert<To>::from(x);
}

// A Python scalar handed to a kernel: integral types take the exact int64, floats the double.
template <class T> __device__ __forceinline__ T scalar_of(double d, i64 i) { return (T)d; }
#define INTEGRAL_SCALAR(T) \
  template <> __device__ __forceinline__ T scalar_of<T>(double d, i64 i) { return (T)i; }
INTEGRAL_SCALAR(bool)
INTEGRAL_SCALAR(unsigned char)
INTEGRAL_SCALAR(signed char)
INTEGRAL_SCALAR(short)
INTEGRAL_SCALAR(int)
INTEGRAL_SCALAR(long long)

// Element offsets of linear index i in N strided operands of one broadcast shape.
// meta = [shape[ndim], strides of operand 0 [ndim], ..., strides of operand N-1 [ndim]], strides
// in elements (0 where an operand is broadcast). ndim == 0: every operand is contiguous.
template <int N>
__device__ __forceinline__ void strided_offsets(i64 i, int ndim, const i64* __restrict__ meta,
                                                i64 (&off)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = ndim == 0 ? i : 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const i64 size = meta[d];
    const i64 idx = i % size;
    i /= size;
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += idx * meta[(k + 1) * ndim + d];
  }
}
