// Reductions, scans and the index kernels of the reduction family.
//
// One reduction template (REDUCE_KERNEL) is instantiated per op and dtype from the table in
// corelib_cuda/ops/reduction.py. An op is a struct with parameters p0/p1 (correction, ord), the
// arithmetic type A of an element, the accumulator type acc_t and
//   identity()            the empty accumulator
//   reduce(acc, x, r)     fold in element x (an A), r its index within the row
//   combine(acc, acc)     merge two partial accumulators (associative; order-independent)
//   project(acc, n)       the result of a row of n elements
// The input is any strided view, read as rows (the kept dims, coalesced) of n_red elements (the
// reduced dims, coalesced); blockDim.x threads share a row, blockDim.y rows run per block.
#include "reduction_block.cuh"

// ints and bool accumulate in int64, float16 in float (PyTorch's accumulate types)
template <class T> struct SumAcc { typedef i64 type; };
template <> struct SumAcc<float> { typedef float type; };
template <> struct SumAcc<double> { typedef double type; };
template <> struct SumAcc<__half> { typedef float type; };

template <class T> struct SumOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef typename SumAcc<T>::type acc_t;
  __device__ acc_t identity() const { return acc_t(0); }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return a + acc_t(x); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return a + b; }
  __device__ acc_t project(acc_t a, i64) const { return a; }
};
template <class T> struct MeanOp : SumOp<T> {
  typedef typename SumOp<T>::acc_t acc_t;
  __device__ acc_t project(acc_t a, i64 n) const { return a / acc_t(n); }
};
template <class T> struct NanSumOp : SumOp<T> {
  typedef typename SumOp<T>::acc_t acc_t;
  __device__ acc_t reduce(acc_t a, typename SumOp<T>::A x, i64) const {
    return isnan_(x) ? a : a + acc_t(x);
  }
};
template <class T> struct NanMeanOp {   // (sum, count) of the non-NaN elements
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef Pair<A, i64> acc_t;
  __device__ acc_t identity() const { return acc_t{A(0), 0}; }
  __device__ acc_t reduce(acc_t a, A x, i64) const {
    return isnan_(x) ? a : acc_t{a.a + x, a.b + 1};
  }
  __device__ acc_t combine(acc_t a, acc_t b) const { return acc_t{a.a + b.a, a.b + b.b}; }
  __device__ A project(acc_t a, i64) const { return a.a / A(a.b); }
};
template <class T> struct ProdOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef typename SumAcc<T>::type acc_t;
  __device__ acc_t identity() const { return acc_t(1); }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return a * acc_t(x); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return a * b; }
  __device__ acc_t project(acc_t a, i64) const { return a; }
};

// amax / amin: NaN propagates
template <class T, bool MAX> struct ExtremeOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef A acc_t;
  __device__ acc_t identity() const { return MAX ? Limits<A>::lowest() : Limits<A>::highest(); }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return combine(a, x); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return MAX ? max_(a, b) : min_(a, b); }
  __device__ acc_t project(acc_t a, i64) const { return a; }
};
template <class T> using AmaxOp = ExtremeOp<T, true>;
template <class T> using AminOp = ExtremeOp<T, false>;

// argmax / argmin: (value, index), index -1 for none; the first NaN wins, else the first
// extreme (the smaller index among equal values), as NumPy and PyTorch.
template <class T, bool MAX> struct ArgOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef Pair<A, i64> acc_t;
  __device__ acc_t identity() const { return acc_t{A(0), -1}; }
  __device__ acc_t reduce(acc_t a, A x, i64 r) const { return combine(a, acc_t{x, r}); }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if (a.b < 0) return b;
    if (b.b < 0) return a;
    const bool an = isnan_(a.a), bn = isnan_(b.a);
    if (an || bn) return (an && bn) ? (a.b < b.b ? a : b) : (an ? a : b);
    if (a.a == b.a) return a.b < b.b ? a : b;
    return (MAX ? a.a > b.a : a.a < b.a) ? a : b;
  }
  __device__ i64 project(acc_t a, i64) const { return a.b < 0 ? 0 : a.b; }
};
template <class T> using ArgmaxOp = ArgOp<T, true>;
template <class T> using ArgminOp = ArgOp<T, false>;

template <class T, bool ALL> struct LogicalOp {   // all / any
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef bool acc_t;
  __device__ acc_t identity() const { return ALL; }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return combine(a, x != A(0)); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return ALL ? (a && b) : (a || b); }
  __device__ acc_t project(acc_t a, i64) const { return a; }
};
template <class T> using AllOp = LogicalOp<T, true>;
template <class T> using AnyOp = LogicalOp<T, false>;

template <class T> struct CountNonzeroOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef i64 acc_t;
  __device__ acc_t identity() const { return 0; }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return a + (x != A(0)); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return a + b; }
  __device__ acc_t project(acc_t a, i64) const { return a; }
};

// var / std (p0 = correction): Welford, the divisor max(n - correction, 0) as NumPy's ddof
template <class T, bool SQRT> struct MomentOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef Welford<A> acc_t;
  __device__ acc_t identity() const { return acc_t{A(0), A(0), 0}; }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return welford_add(a, x); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return welford_merge(a, b); }
  __device__ A project(acc_t a, i64) const {
    const A d = A(a.n) - A(p0);
    const A var = a.m2 / (d > A(0) ? d : A(0));
    return SQRT ? sqrt(var) : var;
  }
};
template <class T> using VarOp = MomentOp<T, false>;
template <class T> using StdOp = MomentOp<T, true>;

// logsumexp: (running max m, sum of exp(x - m)); infinite and NaN maxima are the result
template <class T> struct LogsumexpOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef Pair<A, A> acc_t;
  __device__ acc_t identity() const { return acc_t{Limits<A>::lowest(), A(0)}; }
  __device__ acc_t reduce(acc_t a, A x, i64) const { return combine(a, acc_t{x, A(1)}); }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if (isnan_(a.a) || isnan_(b.a)) return isnan_(a.a) ? a : b;
    if (a.a < b.a) { const acc_t t = a; a = b; b = t; }   // a holds the larger max
    if (b.a == Limits<A>::lowest() || a.a == Limits<A>::highest()) return a;   // max is the result
    return acc_t{a.a, a.b + b.b * exp(b.a - a.a)};
  }
  __device__ A project(acc_t a, i64) const {
    return (isnan_(a.a) || a.a == Limits<A>::lowest() || a.a == Limits<A>::highest())
               ? a.a : a.a + log(a.b);
  }
};

// vector_norm (p0 = ord): max / min of |x| for +-inf, count of non-zeros for 0, else
// (sum |x|^ord)^(1/ord) with the exact forms for 1 and 2
template <class T> struct NormOp {
  double p0, p1;
  typedef typename Opmath<T>::type A;
  typedef A acc_t;
  __device__ bool is_max() const { return p0 == (double)Limits<double>::highest(); }
  __device__ bool is_min() const { return p0 == (double)Limits<double>::lowest(); }
  __device__ acc_t identity() const { return is_min() ? Limits<A>::highest() : A(0); }
  __device__ acc_t reduce(acc_t a, A x, i64) const {
    const A ax = fabs(x);
    if (is_max()) return max_(a, ax);
    if (is_min()) return min_(a, ax);
    if (p0 == 0) return a + A(ax != A(0));
    if (p0 == 1) return a + ax;
    if (p0 == 2) return a + ax * ax;
    return a + pow(ax, A(p0));
  }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    return is_max() ? max_(a, b) : is_min() ? min_(a, b) : a + b;
  }
  __device__ A project(acc_t a, i64) const {
    if (is_max() || is_min() || p0 == 0 || p0 == 1) return a;
    if (p0 == 2) return sqrt(a);
    return pow(a, A(1.0 / p0));
  }
};

// y[row] = project(reduction of the row); y is contiguous. meta: see row_offsets/elem_offsets.
// With splits > 1 (few long rows) each row is cut into `splits` interleaved parts reduced by
// separate block rows into `partial` (acc_t records, row-major); NAME_finish then combines
// each row's parts.
#define REDUCE_KERNEL(NAME, OP, TIN, TOUT)                                                    \
  extern "C" __global__ void NAME(const TIN* __restrict__ x, TOUT* __restrict__ y,             \
                                  unsigned char* __restrict__ partial,                         \
                                  const i64* __restrict__ meta, int nk, int nr, i64 n_out,     \
                                  i64 n_red, i64 splits, double p0, double p1) {               \
    OP<TIN> op;                                                                                \
    op.p0 = p0;                                                                                \
    op.p1 = p1;                                                                                \
    typedef decltype(op.identity()) Acc;                                                       \
    const i64 parts = n_out * splits;                                                          \
    ROW_LOOP(v, parts) {                                                                       \
      Acc acc = op.identity();                                                                 \
      const i64 o = v / splits, first = (v % splits) * blockDim.x + threadIdx.x;              \
      if (v < parts) {                                                                         \
        i64 row[1], off[1];                                                                    \
        row_offsets<1>(o, nk, meta, row);                                                      \
        for (i64 r = first; r < n_red; r += splits * blockDim.x) {                             \
          elem_offsets<1>(r, nk, nr, meta, row, off);                                          \
          acc = op.reduce(acc, load(x, off[0]), r);                                            \
        }                                                                                      \
      }                                                                                        \
      acc = row_reduce(op, acc);                                                               \
      if (v < parts && threadIdx.x == 0) {                                                     \
        if (splits == 1) y[o] = convert<TOUT>(op.project(acc, n_red));                         \
        else reinterpret_cast<Acc*>(partial)[v] = acc;                                         \
      }                                                                                        \
    }                                                                                          \
  }                                                                                            \
  extern "C" __global__ void NAME##_finish(const unsigned char* __restrict__ partial,          \
                                           TOUT* __restrict__ y, i64 n_out, i64 n_red,         \
                                           i64 splits, double p0, double p1) {                 \
    OP<TIN> op;                                                                                \
    op.p0 = p0;                                                                                \
    op.p1 = p1;                                                                                \
    typedef decltype(op.identity()) Acc;                                                       \
    const Acc* parts = reinterpret_cast<const Acc*>(partial);                                  \
    ROW_LOOP(o, n_out) {                                                                       \
      Acc acc = op.identity();                                                                 \
      if (o < n_out)                                                                           \
        for (i64 j = threadIdx.x; j < splits; j += blockDim.x)                                 \
          acc = op.combine(acc, parts[o * splits + j]);                                        \
      acc = row_reduce(op, acc);                                                               \
      if (o < n_out && threadIdx.x == 0) y[o] = convert<TOUT>(op.project(acc, n_red));         \
    }                                                                                          \
  }

// ---------------------------------------------------------------------------------------------
// scans: one thread per line along the scanned dim; meta = [line shape, x strides, y strides]
template <class T> struct CumsumOp {
  typedef typename Opmath<T>::type A;
  typedef typename SumAcc<T>::type acc_t;
  __device__ acc_t identity() const { return acc_t(0); }
  __device__ acc_t step(acc_t a, A x, i64) const { return a + acc_t(x); }
  __device__ acc_t out(acc_t a) const { return a; }
};
template <class T> struct CumprodOp {
  typedef typename Opmath<T>::type A;
  typedef typename SumAcc<T>::type acc_t;
  __device__ acc_t identity() const { return acc_t(1); }
  __device__ acc_t step(acc_t a, A x, i64) const { return a * acc_t(x); }
  __device__ acc_t out(acc_t a) const { return a; }
};
template <class T> struct LogcumsumexpOp {
  typedef typename Opmath<T>::type A;
  typedef A acc_t;
  __device__ acc_t identity() const { return Limits<A>::lowest(); }
  __device__ acc_t step(acc_t a, A x, i64) const {   // NumPy's logaddexp
    if (isnan_(a) || isnan_(x)) return a + x;
    if (a == x) return a + A(0.69314718055994530942);   // log(2 e^a), exact for infinities
    const A m = a > x ? a : x;
    return m + log1p(exp(-fabs(a - x)));
  }
  __device__ acc_t out(acc_t a) const { return a; }
};
// index of the running max (min): ties and NaNs move it forward, a NaN sticks
template <class T, bool MAX> struct CumExtremeOp {
  typedef typename Opmath<T>::type A;
  typedef Pair<A, i64> acc_t;
  __device__ acc_t identity() const { return acc_t{A(0), -1}; }
  __device__ acc_t step(acc_t a, A x, i64 j) const {
    if (a.b < 0 || isnan_(x)) return acc_t{x, j};
    if (!isnan_(a.a) && (MAX ? x >= a.a : x <= a.a)) return acc_t{x, j};
    return a;
  }
  __device__ i64 out(acc_t a) const { return a.b; }
};
template <class T> using CummaxOp = CumExtremeOp<T, true>;
template <class T> using CumminOp = CumExtremeOp<T, false>;

#define SCAN_KERNEL(NAME, OP, TIN, TOUT)                                                      \
  extern "C" __global__ void NAME(const TIN* __restrict__ x, TOUT* __restrict__ y,             \
                                  const i64* __restrict__ meta, int nk, i64 n_lines, i64 len,   \
                                  i64 xs, i64 ys) {                                            \
    OP<TIN> op;                                                                                \
    GRID_STRIDE_LOOP(l, n_lines) {                                                             \
      i64 off[2];                                                                              \
      strided_offsets<2>(l, nk, meta, off);                                                    \
      auto acc = op.identity();                                                                \
      for (i64 j = 0; j < len; ++j) {                                                          \
        acc = op.step(acc, load(x, off[0] + j * xs), j);                                       \
        y[off[1] + j * ys] = convert<TOUT>(op.out(acc));                                       \
      }                                                                                        \
    }                                                                                          \
  }

// ---------------------------------------------------------------------------------------------
// gather / scatter-add along a dim. meta = [shape of idx, strides of: x (or out) with 0 along
// dim, idx, y (or src)]; the position along dim comes from idx (negative counts from the end).
// gather copies bits: T is an unsigned type of the element's size.
#define GATHER_KERNEL(NAME, T)                                                                 \
  extern "C" __global__ void NAME(const T* __restrict__ x, const i64* __restrict__ idx,        \
                                  T* __restrict__ y, const i64* __restrict__ meta, int ndim,    \
                                  i64 n, i64 dim_stride, i64 dim_size) {                       \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      i64 k = idx[off[1]];                                                                     \
      if (k < 0) k += dim_size;                                                                \
      y[off[2]] = x[off[0] + k * dim_stride];                                                  \
    }                                                                                          \
  }

__device__ __forceinline__ void atomic_add_(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_(int* p, int v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add_(long long* p, long long v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);   // two's complement
}

// out (accumulator type TACC, zero-filled) at idx positions along dim += src
#define SCATTER_ADD_KERNEL(NAME, TIN, TACC)                                                    \
  extern "C" __global__ void NAME(const TIN* __restrict__ src, const i64* __restrict__ idx,    \
                                  TACC* __restrict__ out, const i64* __restrict__ meta,         \
                                  int ndim, i64 n, i64 dim_stride, i64 dim_size) {             \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      i64 k = idx[off[1]];                                                                     \
      if (k < 0) k += dim_size;                                                                \
      atomic_add_(out + off[0] + k * dim_stride, convert<TACC>(load(src, off[2])));            \
    }                                                                                          \
  }

// ---------------------------------------------------------------------------------------------
// histc: counts[bin] += 1 over `bins` equal bins of [lo, hi] (lo < hi), binned as NumPy's
// histogram: edges lo + i * (hi - lo) / bins, the last bin closed. meta: x's layout.
#define HISTC_KERNEL(NAME, T)                                                                  \
  extern "C" __global__ void NAME(const T* __restrict__ x, int* __restrict__ counts,           \
                                  const i64* __restrict__ meta, int ndim, i64 n, i64 bins,      \
                                  double lo, double hi) {                                      \
    const double step = (hi - lo) / (double)bins;                                              \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[1];                                                                              \
      strided_offsets<1>(i, ndim, meta, off);                                                  \
      const double v = (double)load(x, off[0]);                                                \
      if (!(v >= lo && v <= hi)) continue;   /* outside, or NaN */                             \
      i64 b = (i64)((v - lo) / (hi - lo) * (double)bins);                                      \
      if (b == bins) b -= 1;                                                                   \
      if (v < (double)b * step + lo) b -= 1;                                                   \
      if (b != bins - 1 && v >= (double)(b + 1) * step + lo) b += 1;                           \
      atomicAdd(counts + b, 1);                                                                \
    }                                                                                          \
  }

// bincount of a 1-d array of non-negative ints (stride xs): counts, or sums of float64 weights
#define BINCOUNT_KERNEL(NAME, T)                                                               \
  extern "C" __global__ void NAME(const T* __restrict__ x, i64 xs, i64 n,                      \
                                  long long* __restrict__ counts,                              \
                                  const double* __restrict__ w, i64 ws,                        \
                                  double* __restrict__ sums) {                                 \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      const i64 k = (i64)x[i * xs];                                                            \
      if (w) atomic_add_(sums + k, w[i * ws]);                                                 \
      else atomic_add_(counts + k, 1LL);                                                       \
    }                                                                                          \
  }

// mode of each row of sorted values s (rows x n, contiguous) with their original positions
// `order`: the position of the last element of the longest run (the first such run: the
// smallest value; NaNs never form runs), as the CPU kernel.
#define MODE_KERNEL(NAME, T)                                                                   \
  extern "C" __global__ void NAME(const T* __restrict__ s, const i64* __restrict__ order,      \
                                  i64* __restrict__ out, i64 rows, i64 n) {                    \
    GRID_STRIDE_LOOP(row, rows) {                                                              \
      const T* v = s + row * n;                                                                \
      i64 best = 0, best_end = 0, start = 0;                                                   \
      for (i64 j = 1; j <= n; ++j) {                                                           \
        if (j < n && load(v, j) == load(v, j - 1)) continue;                                   \
        if (j - start > best) {                                                                \
          best = j - start;                                                                    \
          best_end = j - 1;                                                                    \
        }                                                                                      \
        start = j;                                                                             \
      }                                                                                        \
      out[row] = order[row * n + best_end];                                                    \
    }                                                                                          \
  }
