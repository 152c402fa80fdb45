// Random kernels on a counter-based Philox4x32-10 generator (Salmon et al., SC'11).
//
// A draw is keyed by the frontend Generator's (seed, offset): element i of the output reads the
// 128-bit counters (offset / 4 + b, i) for b = 0, 1, ... (the element index is the subsequence,
// the high 64 counter bits), each giving four 32-bit words. Results depend only on the seed, the
// offset and the element index, never on the grid. Every sampler here uses one block (b = 0,
// four words) per element, except poisson (see POISSON_BLOCKS); the host advances the offset by
// the words an element may consume, so consecutive draws never reuse a counter.
// The generated lines at the end of this source instantiate the samplers per dtype
// (corelib_cuda/ops/random.py).
#include "common.cuh"

typedef unsigned int u32;

struct Words { u32 w[4]; };

// Philox4x32-10: ten rounds of two 32x32->64 multiplies, the key bumped by the Weyl constants.
__device__ __forceinline__ Words philox(u64 seed, u64 ctr_lo, u64 ctr_hi) {
  u32 c0 = (u32)ctr_lo, c1 = (u32)(ctr_lo >> 32), c2 = (u32)ctr_hi, c3 = (u32)(ctr_hi >> 32);
  u32 k0 = (u32)seed, k1 = (u32)(seed >> 32);
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    const u32 hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const u32 hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  Words out = {{c0, c1, c2, c3}};
  return out;
}

// Block b of element i's stream.
__device__ __forceinline__ Words draw(i64 seed, i64 offset, i64 i, i64 b = 0) {
  return philox((u64)seed, (u64)offset / 4 + (u64)b, (u64)i);
}

// Uniform k (0 or 1) of a block on [0, 1): 24 random bits for float, 53 for double.
template <class R> __device__ __forceinline__ R uniform(const Words& r, int k);
template <> __device__ __forceinline__ float uniform<float>(const Words& r, int k) {
  return (float)(r.w[k] >> 8) * (1.0f / 16777216.0f);
}
template <> __device__ __forceinline__ double uniform<double>(const Words& r, int k) {
  const u64 bits = ((u64)(r.w[2 * k] >> 5) << 26) | (u64)(r.w[2 * k + 1] >> 6);
  return (double)bits * (1.0 / 9007199254740992.0);
}
// ... on (0, 1], for logarithms
template <class R> __device__ __forceinline__ R uniform_pos(const Words& r, int k) {
  return R(1) - uniform<R>(r, k);
}
// ... on (0, 1): midpoints of a grid one bit coarser, so that k + 0.5 is exact
template <class R> __device__ __forceinline__ R uniform_open(const Words& r, int k);
template <> __device__ __forceinline__ float uniform_open<float>(const Words& r, int k) {
  return ((float)(r.w[k] >> 9) + 0.5f) * (1.0f / 8388608.0f);
}
template <> __device__ __forceinline__ double uniform_open<double>(const Words& r, int k) {
  const u64 bits = ((u64)(r.w[2 * k] >> 6) << 26) | (u64)(r.w[2 * k + 1] >> 6);
  return ((double)bits + 0.5) * (1.0 / 4503599627370496.0);
}

// Standard normal by Box-Muller (the cosine branch) from the block's two uniforms.
template <class R> __device__ __forceinline__ R standard_normal(const Words& r) {
  const R radius = sqrt(R(-2) * log(uniform_pos<R>(r, 0)));
  return radius * cos(R(6.283185307179586476925) * uniform<R>(r, 1));
}

// Samplers of float dtypes: ys[i] = EXPR in the arithmetic type R (float for __half), with the
// block `r` of element i and the sampler's parameters p0, p1.
#define FLOAT_SAMPLER(NAME, T, EXPR)                                                           \
  extern "C" __global__ void NAME(T* ys, i64 n, i64 seed, i64 offset, double p0, double p1) {  \
    typedef typename Opmath<T>::type R;                                                        \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      const Words r = draw(seed, offset, i);                                                   \
      ys[i] = convert<T>(EXPR);                                                                \
    }                                                                                          \
  }
#define UNIFORM_EXPR uniform<R>(r, 0) * R(p1 - p0) + R(p0)
#define NORMAL_EXPR standard_normal<R>(r) * R(p1) + R(p0)
#define EXPONENTIAL_EXPR -log(uniform_pos<R>(r, 0)) / R(p0)
#define LOG_NORMAL_EXPR exp(standard_normal<R>(r) * R(p1) + R(p0))
#define CAUCHY_EXPR \
  R(p0) + R(p1) * tan(R(3.14159265358979323846) * (uniform_open<R>(r, 0) - R(0.5)))

// Geometric(p) (trials up to the first success, >= 1), any dtype: ceil(log U / log(1 - p)).
#define GEOMETRIC_KERNEL(NAME, T)                                                              \
  extern "C" __global__ void NAME(T* ys, i64 n, i64 seed, i64 offset, double p) {              \
    const double denom = log1p(-p);                                                            \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      const Words r = draw(seed, offset, i);                                                   \
      ys[i] = convert<T>(ceil(log(uniform_open<double>(r, 0)) / denom));                       \
    }                                                                                          \
  }

// Integers uniform on [low, low + span) from 64 random bits (span 0 means 2^64), any dtype.
#define RANDINT_KERNEL(NAME, T)                                                                \
  extern "C" __global__ void NAME(T* ys, i64 n, i64 seed, i64 offset, i64 low, i64 span) {     \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      const Words r = draw(seed, offset, i);                                                   \
      const u64 bits = ((u64)r.w[1] << 32) | r.w[0];                                           \
      const u64 k = span == 0 ? bits : bits % (u64)span;                                       \
      ys[i] = convert<T>((i64)((u64)low + k));                                                 \
    }                                                                                          \
  }

// ys[i] = 1 with probability ps[i] (double, strided as in strided_offsets), else 0.
#define BERNOULLI_KERNEL(NAME, T)                                                              \
  extern "C" __global__ void NAME(const double* ps, T* ys, const i64* __restrict__ meta,       \
                                  int ndim, i64 n, i64 seed, i64 offset) {                     \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      const Words r = draw(seed, offset, i);                                                   \
      ys[off[1]] = convert<T>(uniform<double>(r, 0) < ps[off[0]] ? 1 : 0);                     \
    }                                                                                          \
  }

// ys[i] = means[i] + stds[i] * N(0, 1), mean and std double and broadcast (strided).
#define NORMAL_TENSOR_KERNEL(NAME, T)                                                          \
  extern "C" __global__ void NAME(const double* means, const double* stds, T* ys,              \
                                  const i64* __restrict__ meta, int ndim, i64 n, i64 seed,     \
                                  i64 offset) {                                                \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      const Words r = draw(seed, offset, i);                                                   \
      ys[off[2]] = convert<T>(standard_normal<double>(r) * stds[off[1]] + means[off[0]]);      \
    }                                                                                          \
  }

// Poisson(rate): Knuth's product of uniforms for small rates, Hoermann's transformed rejection
// (PTRS) otherwise. Element i reads blocks 0, 1, ... of its stream (two uniforms each), at most
// POISSON_BLOCKS of them: the host advances the offset by that many blocks. (A sampler that
// spends the budget stops early; the chance is far below 1e-100.)
#define POISSON_BLOCKS 4096

struct UniformStream {   // the uniforms of element i, two per block
  i64 seed, offset, i, block;
  int used;
  Words r;
  __device__ bool spent() const { return block == POISSON_BLOCKS - 1 && used == 2; }
  __device__ double next() {
    if (used == 2) {
      block = (block + 1) % POISSON_BLOCKS;
      r = draw(seed, offset, i, block);
      used = 0;
    }
    return uniform<double>(r, used++);
  }
};

__device__ double poisson_sample(double rate, UniformStream& u) {
  if (!(rate > 0)) return 0;
  if (rate < 10) {
    const double limit = exp(-rate);
    double prod = 1 - u.next(), k = 0;
    while (prod > limit && !u.spent()) {
      prod *= 1 - u.next();
      k += 1;
    }
    return k;
  }
  const double slam = sqrt(rate), loglam = log(rate);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double U = u.next() - 0.5, V = u.next();
    const double us = 0.5 - fabs(U);
    const double k = floor((2 * a / us + b) * U + rate + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (u.spent()) return k < 0 ? 0 : k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (log(V) + log(inv_alpha) - log(a / (us * us) + b) <= -rate + k * loglam - lgamma(k + 1))
      return k;
  }
}

#define POISSON_KERNEL(NAME, T)                                                                \
  extern "C" __global__ void NAME(const double* rates, T* ys, const i64* __restrict__ meta,    \
                                  int ndim, i64 n, i64 seed, i64 offset) {                     \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      UniformStream u = {seed, offset, i, 0, 0, draw(seed, offset, i)};                        \
      ys[off[1]] = convert<T>(poisson_sample(rates[off[0]], u));                               \
    }                                                                                          \
  }

// Multinomial with replacement by inverse CDF: out[row, s] = the number of entries of the
// row's normalized cumulative sums (cdf: rows x cats, contiguous) <= a uniform, capped at
// cats - 1 (a binary search; zero-probability categories are never drawn).
extern "C" __global__ void multinomial_with_replacement(const double* cdf, long long* out,
                                                        i64 rows, i64 cats, i64 samples,
                                                        i64 seed, i64 offset) {
  GRID_STRIDE_LOOP(i, rows * samples) {
    const double* row = cdf + (i / samples) * cats;
    const double total = row[cats - 1];
    const Words r = draw(seed, offset, i);
    const double u = uniform<double>(r, 0);
    i64 lo = 0, hi = cats;            // first index whose normalized cdf exceeds u
    while (lo < hi) {
      const i64 mid = (lo + hi) / 2;
      if (row[mid] / total <= u) lo = mid + 1; else hi = mid;
    }
    out[i] = lo < cats - 1 ? lo : cats - 1;
  }
}

// Multinomial without replacement: keys E / p with E ~ Exponential(1) (infinite where p == 0);
// the smallest num_samples keys of a row are a draw without replacement (Gumbel top-k).
extern "C" __global__ void multinomial_keys(const double* probs, double* keys, i64 n, i64 seed,
                                            i64 offset) {
  const double inf = __longlong_as_double(0x7ff0000000000000LL);
  GRID_STRIDE_LOOP(i, n) {
    const Words r = draw(seed, offset, i);
    const double p = probs[i];
    keys[i] = p > 0 ? -log(uniform_pos<double>(r, 0)) / p : inf;
  }
}
