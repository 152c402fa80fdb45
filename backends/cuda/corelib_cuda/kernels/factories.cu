// Factory kernels: full, arange, linspace and eye, instantiated per dtype (the generated lines at
// the end of this source come from corelib_cuda/ops/factories.py). Outputs are contiguous; the
// arithmetic is done in double (or exact int64 for integral arange) and converted on store.
#include "common.cuh"

// ys[i] = the scalar (vf: its double value, vi: its int64 value)
#define FULL_KERNEL(NAME, T)                                                                   \
  extern "C" __global__ void NAME(T* ys, i64 n, double vf, i64 vi) {                           \
    const T v = convert<T>(scalar_of<typename Opmath<T>::type>(vf, vi));                       \
    GRID_STRIDE_LOOP(i, n) ys[i] = v;                                                          \
  }

// ys[i] = start + i * step: exact in int64 when `integral`, else in double
#define ARANGE_KERNEL(NAME, T)                                                                 \
  extern "C" __global__ void NAME(T* ys, i64 n, double start, double step, i64 istart,         \
                                  i64 istep, int integral) {                                   \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      if (integral) ys[i] = convert<T>((i64)((u64)istart + (u64)i * (u64)istep));              \
      else ys[i] = convert<T>(start + (double)i * step);                                       \
    }                                                                                          \
  }

// PyTorch's symmetric linspace: the first half counts up from start, the second half down
// from end, so both endpoints are exact.
#define LINSPACE_KERNEL(NAME, T)                                                               \
  extern "C" __global__ void NAME(T* ys, i64 n, double start, double end, double step) {       \
    const i64 half = n / 2;                                                                    \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      ys[i] = convert<T>(i < half ? start + step * (double)i : end - step * (double)(n - 1 - i)); \
    }                                                                                          \
  }

// ys (n = rows * cols, row-major) = 1 on the diagonal, 0 elsewhere
#define EYE_KERNEL(NAME, T)                                                                    \
  extern "C" __global__ void NAME(T* ys, i64 n, i64 cols) {                                    \
    GRID_STRIDE_LOOP(i, n) ys[i] = convert<T>(i / cols == i % cols ? 1 : 0);                   \
  }
