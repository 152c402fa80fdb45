// Pooling kernels over (N, C, *spatial) planes. Max pools only pick indices (flat positions
// within an input plane, as PyTorch's return_indices); pool_gather reads the values at them and
// pool_scatter is its transpose (the backward). Average pools compute directly, their backward
// is a gather over the output windows covering each input element (no atomics).
//
// Window fields (nn_window.cuh): in/out/k/s/p/d; a = strides (n, c, spatial...) of the operand
// read (x, or g in the backward). Results are contiguous.
#include "nn_window.cuh"

// idx[n, c, o] = flat input position of the window maximum: the first maximum wins and NaN
// propagates (the first NaN wins). Padding never wins.
#define MAX_POOL_INDICES_KERNEL(NAME, T)                                                       \
  extern "C" __global__ void NAME(const T* __restrict__ x, i64* __restrict__ idx,             \
                                  const i64* __restrict__ meta, int nsp, i64 N, i64 C) {      \
    typedef typename Opmath<T>::type V;                                                        \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 K = numel_of(w.k, nsp), O = numel_of(w.out, nsp);                                \
    GRID_STRIDE_LOOP(i, N * C * O) {                                                           \
      const i64 plane = i / O;                                                                 \
      const i64 base = (plane / C) * w.a[0] + (plane % C) * w.a[1];                            \
      i64 start[NN_MAX_SPATIAL];                                                               \
      unravel(i % O, w.out, nsp, start);                                                       \
      for (int d = 0; d < nsp; ++d) start[d] = start[d] * w.s[d] - w.p[d];                     \
      V best = V(0);                                                                           \
      i64 best_idx = -1;                                                                       \
      for (i64 kpos = 0; kpos < K; ++kpos) {                                                    \
        i64 kk = kpos, flat = 0, scale = 1, off = base;                                        \
        bool inside = true;                                                                    \
        for (int d = nsp - 1; d >= 0; --d) {                                                   \
          const i64 at = start[d] + (kk % w.k[d]) * w.d[d];                                    \
          kk /= w.k[d];                                                                        \
          inside = inside && at >= 0 && at < w.in[d];                                          \
          flat += at * scale;                                                                  \
          scale *= w.in[d];                                                                    \
          off += at * w.a[2 + d];                                                              \
        }                                                                                      \
        if (!inside) continue;                                                                 \
        const V v = load(x, off);                                                              \
        if (takes_max(v, best, best_idx)) {                                                    \
          best = v;                                                                            \
          best_idx = flat;                                                                     \
        }                                                                                      \
      }                                                                                        \
      idx[i] = best_idx;                                                                       \
    }                                                                                          \
  }

// As above over PyTorch's adaptive windows [floor(o * in / out), ceil((o + 1) * in / out)).
#define ADAPTIVE_MAX_POOL_INDICES_KERNEL(NAME, T)                                              \
  extern "C" __global__ void NAME(const T* __restrict__ x, i64* __restrict__ idx,             \
                                  const i64* __restrict__ meta, int nsp, i64 N, i64 C) {      \
    typedef typename Opmath<T>::type V;                                                        \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 O = numel_of(w.out, nsp);                                                        \
    GRID_STRIDE_LOOP(i, N * C * O) {                                                           \
      const i64 plane = i / O;                                                                 \
      const i64 base = (plane / C) * w.a[0] + (plane % C) * w.a[1];                            \
      i64 start[NN_MAX_SPATIAL], size[NN_MAX_SPATIAL];                                         \
      unravel(i % O, w.out, nsp, start);                                                       \
      i64 count = 1;                                                                           \
      for (int d = 0; d < nsp; ++d) {                                                          \
        const i64 o = start[d];                                                                \
        start[d] = o * w.in[d] / w.out[d];                                                     \
        size[d] = ((o + 1) * w.in[d] + w.out[d] - 1) / w.out[d] - start[d];                    \
        count *= size[d];                                                                      \
      }                                                                                        \
      V best = V(0);                                                                           \
      i64 best_idx = -1;                                                                       \
      for (i64 j = 0; j < count; ++j) {                                                         \
        i64 r = j, flat = 0, scale = 1, off = base;                                            \
        for (int d = nsp - 1; d >= 0; --d) {                                                   \
          const i64 at = start[d] + r % size[d];                                               \
          r /= size[d];                                                                        \
          flat += at * scale;                                                                  \
          scale *= w.in[d];                                                                    \
          off += at * w.a[2 + d];                                                              \
        }                                                                                      \
        const V v = load(x, off);                                                              \
        if (takes_max(v, best, best_idx)) {                                                    \
          best = v;                                                                            \
          best_idx = flat;                                                                     \
        }                                                                                      \
      }                                                                                        \
      idx[i] = best_idx;                                                                       \
    }                                                                                          \
  }

// The divisor of average-pool window o (coordinates oc): the window clipped to the padded
// input (ceil_mode's extra right windows never count), or to the input itself without
// count_include_pad; divisor_override (non-zero) replaces it.
__device__ __forceinline__ i64 avg_divisor(const Window& w, const i64* oc,
                                           int count_include_pad, i64 divisor_override) {
  if (divisor_override) return divisor_override;
  i64 div = 1;
  for (int d = 0; d < w.nsp; ++d) {
    const i64 start = oc[d] * w.s[d] - w.p[d];
    i64 end = start + w.k[d] < w.in[d] + w.p[d] ? start + w.k[d] : w.in[d] + w.p[d];
    i64 lo = start;
    if (!count_include_pad) {
      lo = lo < 0 ? 0 : lo;
      end = end < w.in[d] ? end : w.in[d];
    }
    div *= end - lo;
  }
  return div;
}

// y[n, c, o] = sum of the window / its divisor.
#define AVG_POOL_KERNEL(NAME, T)                                                               \
  extern "C" __global__ void NAME(const T* __restrict__ x, T* __restrict__ y,                 \
                                  const i64* __restrict__ meta, int nsp, i64 N, i64 C,        \
                                  int count_include_pad, i64 divisor_override) {              \
    typedef typename Opmath<T>::type V;                                                        \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 O = numel_of(w.out, nsp);                                                        \
    GRID_STRIDE_LOOP(i, N * C * O) {                                                           \
      const i64 plane = i / O;                                                                 \
      const i64 base = (plane / C) * w.a[0] + (plane % C) * w.a[1];                            \
      i64 oc[NN_MAX_SPATIAL], lo[NN_MAX_SPATIAL], size[NN_MAX_SPATIAL];                        \
      unravel(i % O, w.out, nsp, oc);                                                          \
      i64 count = 1;                                                                           \
      for (int d = 0; d < nsp; ++d) {                                                          \
        const i64 start = oc[d] * w.s[d] - w.p[d];                                             \
        const i64 end = start + w.k[d] < w.in[d] ? start + w.k[d] : w.in[d];                   \
        lo[d] = start < 0 ? 0 : start;                                                         \
        size[d] = end > lo[d] ? end - lo[d] : 0;                                               \
        count *= size[d];                                                                      \
      }                                                                                        \
      V acc = V(0);                                                                            \
      for (i64 j = 0; j < count; ++j) {                                                        \
        i64 r = j, off = base;                                                                 \
        for (int d = nsp - 1; d >= 0; --d) {                                                   \
          off += (lo[d] + r % size[d]) * w.a[2 + d];                                           \
          r /= size[d];                                                                        \
        }                                                                                      \
        acc += load(x, off);                                                                   \
      }                                                                                        \
      y[i] = convert<T>(acc / V(avg_divisor(w, oc, count_include_pad, divisor_override)));     \
    }                                                                                          \
  }

// dx[n, c, i] = sum over the windows o covering i of g[n, c, o] / divisor(o).
#define AVG_POOL_BACKWARD_KERNEL(NAME, T)                                                      \
  extern "C" __global__ void NAME(const T* __restrict__ g, T* __restrict__ dx,                \
                                  const i64* __restrict__ meta, int nsp, i64 N, i64 C,        \
                                  int count_include_pad, i64 divisor_override) {              \
    typedef typename Opmath<T>::type V;                                                        \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 S = numel_of(w.in, nsp);                                                         \
    GRID_STRIDE_LOOP(i, N * C * S) {                                                           \
      const i64 plane = i / S;                                                                 \
      const i64 base = (plane / C) * w.a[0] + (plane % C) * w.a[1];                            \
      i64 at[NN_MAX_SPATIAL], lo[NN_MAX_SPATIAL], size[NN_MAX_SPATIAL];                        \
      unravel(i % S, w.in, nsp, at);                                                           \
      i64 count = 1;                                                                           \
      for (int d = 0; d < nsp; ++d) { /* windows o with o*s - p <= at < o*s - p + k */         \
        const i64 first = at[d] + w.p[d] - w.k[d] + 1, last = (at[d] + w.p[d]) / w.s[d];       \
        lo[d] = first <= 0 ? 0 : (first + w.s[d] - 1) / w.s[d];                                \
        const i64 hi = last < w.out[d] - 1 ? last : w.out[d] - 1;                              \
        size[d] = hi >= lo[d] ? hi - lo[d] + 1 : 0;                                            \
        count *= size[d];                                                                      \
      }                                                                                        \
      V acc = V(0);                                                                            \
      for (i64 j = 0; j < count; ++j) {                                                        \
        i64 r = j, off = base, oc[NN_MAX_SPATIAL];                                             \
        for (int d = nsp - 1; d >= 0; --d) {                                                   \
          oc[d] = lo[d] + r % size[d];                                                         \
          r /= size[d];                                                                        \
          off += oc[d] * w.a[2 + d];                                                           \
        }                                                                                      \
        acc += load(g, off) / V(avg_divisor(w, oc, count_include_pad, divisor_override));      \
      }                                                                                        \
      dx[i] = convert<T>(acc);                                                                 \
    }                                                                                          \
  }

// y[n, c, o] = x[n, c, unravel(idx[n, c, o])]; idx and y contiguous (N, C, *out).
#define POOL_GATHER_KERNEL(NAME, T)                                                            \
  extern "C" __global__ void NAME(const T* __restrict__ x, const i64* __restrict__ idx,       \
                                  T* __restrict__ y, const i64* __restrict__ meta, int nsp,   \
                                  i64 N, i64 C) {                                              \
    Window w;                                                                                  \
    w.load(meta, nsp);                                                                         \
    const i64 O = numel_of(w.out, nsp), S = numel_of(w.in, nsp);                               \
    GRID_STRIDE_LOOP(i, N * C * O) {                                                           \
      const i64 plane = i / O;                                                                 \
      i64 r = idx[i], off = (plane / C) * w.a[0] + (plane % C) * w.a[1];                       \
      const bool valid = r >= 0 && r < S;                                                      \
      for (int d = nsp - 1; d >= 0; --d) {                                                     \
        off += (r % w.in[d]) * w.a[2 + d];                                                     \
        r /= w.in[d];                                                                          \
      }                                                                                        \
      y[i] = valid ? x[off] : convert<T>(0);                                                   \
    }                                                                                          \
  }

// out[plane * S + idx] += g (atomicAdd into the accumulation type A), or = g when the
// indices are unique. g and idx are strided operands of one shape (N, C, *out) (meta as
// strided_offsets); plane = linear index / O.
#define POOL_SCATTER_KERNEL(NAME, T, A)                                                        \
  extern "C" __global__ void NAME(const T* __restrict__ g, const i64* __restrict__ idx,       \
                                  A* __restrict__ out, const i64* __restrict__ meta, int ndim, \
                                  i64 n, i64 O, i64 S, int unique) {                           \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      const i64 r = idx[off[1]];                                                               \
      if (r < 0 || r >= S) continue;                                                           \
      const A v = (A)load(g, off[0]);                                                          \
      if (unique) out[(i / O) * S + r] = v;                                                    \
      else atomicAdd(out + (i / O) * S + r, v);                                                \
    }                                                                                          \
  }
