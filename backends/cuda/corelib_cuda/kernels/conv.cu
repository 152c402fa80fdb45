// Convolution building blocks: im2col (sliding windows of the input as matrix columns) and
// col2im (its transpose: columns summed back onto the input, overlapping windows added). A
// convolution is im2col plus one batched cuBLAS matmul (corelib_cuda/ops/nn.py); its input
// gradient is a matmul plus col2im, its weight gradient im2col plus a matmul.
//
// Window fields (nn_window.cuh): in/out/k/s/p/d; a = strides (n, c, spatial...) of the image
// operand; b[0..2] = strides (n, row, position) of the column operand, where row = c * K + k
// (K = prod(k), k row-major over the kernel dims) and position is row-major over out.
#include "nn_window.cuh"

// cols[n, c * K + k, o] = x[n, c, o * s - p + k * d] (0 in the padding); one thread per column
// element.
#define IM2COL_KERNEL(NAME, T)                                                                 \
  extern "C" __global__ void NAME(const T* __restrict__ x, T* __restrict__ cols,              \
                                  const i64* __restrict__ meta, int nsp, i64 N, i64 C) {      \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 K = numel_of(w.k, nsp), P = numel_of(w.out, nsp), rows = C * K;                 \
    GRID_STRIDE_LOOP(i, N * rows * P) {                                                        \
      const i64 pos = i % P, t = i / P, row = t % rows, n = t / rows;                          \
      i64 kk = row % K, o = pos, off = n * w.a[0] + (row / K) * w.a[1];                       \
      bool inside = true;                                                                      \
      for (int d = nsp - 1; d >= 0; --d) {                                                     \
        const i64 at = (o % w.out[d]) * w.s[d] - w.p[d] + (kk % w.k[d]) * w.d[d];             \
        o /= w.out[d];                                                                         \
        kk /= w.k[d];                                                                          \
        inside = inside && at >= 0 && at < w.in[d];                                            \
        off += at * w.a[2 + d];                                                                \
      }                                                                                        \
      cols[n * w.b[0] + row * w.b[1] + pos * w.b[2]] = inside ? x[off] : convert<T>(0);       \
    }                                                                                          \
  }

// x[n, c, i] = sum of cols[n, c * K + k, o] over the (k, o) with o * s - p + k * d == i: a
// gather per image element (deterministic, no atomics). x is contiguous (N, C, *in).
#define COL2IM_KERNEL(NAME, T)                                                                 \
  extern "C" __global__ void NAME(const T* __restrict__ cols, T* __restrict__ x,              \
                                  const i64* __restrict__ meta, int nsp, i64 N, i64 C) {      \
    typedef typename Opmath<T>::type V;                                                        \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 K = numel_of(w.k, nsp), S = numel_of(w.in, nsp);                                 \
    GRID_STRIDE_LOOP(i, N * C * S) {                                                           \
      const i64 plane = i / S, n = plane / C, c = plane % C;                                   \
      i64 at[NN_MAX_SPATIAL];                                                                  \
      unravel(i % S, w.in, nsp, at);                                                           \
      const i64 base = n * w.b[0] + c * K * w.b[1];                                            \
      V acc = V(0);                                                                            \
      for (i64 kpos = 0; kpos < K; ++kpos) {                                                   \
        i64 kk = kpos, o = 0, scale = 1;                                                       \
        bool hit = true;                                                                       \
        for (int d = nsp - 1; d >= 0 && hit; --d) {                                            \
          const i64 t = at[d] + w.p[d] - (kk % w.k[d]) * w.d[d];                               \
          kk /= w.k[d];                                                                        \
          hit = t >= 0 && t % w.s[d] == 0 && t / w.s[d] < w.out[d];                            \
          o += (t / w.s[d]) * scale;                                                           \
          scale *= w.out[d];                                                                   \
        }                                                                                      \
        if (hit) acc += load(cols, base + kpos * w.b[1] + o * w.b[2]);                         \
      }                                                                                        \
      x[i] = convert<T>(acc);                                                                  \
    }                                                                                          \
  }
