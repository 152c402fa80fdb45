// Elementwise kernels: one strided, broadcasting template per arity, instantiated per op and
// dtype from the table of C expressions in corelib_cuda/ops/elementwise.py (the generated lines
// at the end of this source). In an expression, T is the arithmetic type (float for __half),
// x is the unary operand, a/b/c the operands of binary/ternary ops, p0..p2 the op's parameters.
// Operands and result may be arbitrary strided views of one broadcast shape (see
// strided_offsets); a null operand pointer means "use the scalar argument instead".
#include "common.cuh"

template <class T> struct IsFloat { static const bool value = false; };
template <> struct IsFloat<float> { static const bool value = true; };
template <> struct IsFloat<double> { static const bool value = true; };
template <class T> struct IsSigned { static const bool value = T(-1) < T(0); };

template <class T> __device__ __forceinline__ bool isnan_(T x) {
  if constexpr (IsFloat<T>::value) return isnan(x); else return false;
}
template <class T> __device__ __forceinline__ bool isinf_(T x) {
  if constexpr (IsFloat<T>::value) return isinf(x); else return false;
}
template <class T> __device__ __forceinline__ T abs_(T x) {
  if constexpr (IsFloat<T>::value) return fabs(x);
  else if constexpr (IsSigned<T>::value) return x < T(0) ? T(-x) : x;
  else return x;
}
// PyTorch: (0 < x) - (x < 0), so sign(NaN) is 0 (NumPy's is NaN)
template <class T> __device__ __forceinline__ T sign_(T x) {
  return T((x > T(0)) - (x < T(0)));
}
// maximum/minimum propagate NaN (PyTorch); fmax/fmin ignore it.
template <class T> __device__ __forceinline__ T max_(T a, T b) {
  if (isnan_(a) || isnan_(b)) return isnan_(a) ? a : b;
  return a > b ? a : b;
}
template <class T> __device__ __forceinline__ T min_(T a, T b) {
  if (isnan_(a) || isnan_(b)) return isnan_(a) ? a : b;
  return a < b ? a : b;
}
template <class T> __device__ __forceinline__ T fmax_(T a, T b) {
  if (isnan_(a)) return b;
  if (isnan_(b)) return a;
  return a > b ? a : b;
}
template <class T> __device__ __forceinline__ T fmin_(T a, T b) {
  if (isnan_(a)) return b;
  if (isnan_(b)) return a;
  return a < b ? a : b;
}
template <class T> __device__ __forceinline__ T floor_(T x) {
  if constexpr (IsFloat<T>::value) return floor(x); else return x;
}
template <class T> __device__ __forceinline__ T ceil_(T x) {
  if constexpr (IsFloat<T>::value) return ceil(x); else return x;
}
template <class T> __device__ __forceinline__ T trunc_(T x) {
  if constexpr (IsFloat<T>::value) return trunc(x); else return x;
}
// Round half to even, to 10^-decimals (PyTorch's round(decimals=)).
template <class T> __device__ __forceinline__ T round_(T x, double decimals) {
  if constexpr (IsFloat<T>::value) {
    if (decimals == 0) return rint(x);
    const T scale = T(pow(10.0, fabs(decimals)));
    return decimals > 0 ? rint(x * scale) / scale : rint(x / scale) * scale;
  } else {
    return x;
  }
}
// Integer division never traps: a zero divisor gives 0 (CUDA semantics are undefined there;
// the host sees no exception), and INT_MIN / -1 wraps.
template <class T> __device__ __forceinline__ T trunc_div_(T a, T b) {
  if constexpr (IsFloat<T>::value) return trunc(a / b);
  else {
    if (b == T(0)) return T(0);
    if (IsSigned<T>::value && b == T(-1)) return T(0 - (u64)a);
    return a / b;
  }
}
template <class T> __device__ __forceinline__ T fmod_(T a, T b) {
  if constexpr (IsFloat<T>::value) return fmod(a, b);
  else {
    if (b == T(0) || (IsSigned<T>::value && b == T(-1))) return T(0);
    return a % b;
  }
}
// Python's modulo: the result has the divisor's sign.
template <class T> __device__ __forceinline__ T remainder_(T a, T b) {
  T r = fmod_(a, b);
  if (r != T(0) && ((r < T(0)) != (b < T(0)))) r += b;
  return r;
}
template <class T> __device__ __forceinline__ T floor_div_(T a, T b) {
  if constexpr (IsFloat<T>::value) {
    if (b == T(0)) return a / b;
    const T mod = fmod(a, b);
    T div = (a - mod) / b;
    if (mod != T(0) && ((b < T(0)) != (mod < T(0)))) div -= T(1);
    if (div == T(0)) return copysign(T(0), a / b);
    const T fl = floor(div);
    return div - fl > T(0.5) ? fl + T(1) : fl;
  } else {
    const T q = trunc_div_(a, b);
    return (b != T(0) && q * b != a && ((a < T(0)) != (b < T(0)))) ? T(q - 1) : q;
  }
}
template <class T> __device__ __forceinline__ T pow_(T a, T b) {
  if constexpr (IsFloat<T>::value) return pow(a, b);
  else {
    if (IsSigned<T>::value && b < T(0)) return a == T(1) ? T(1) : a == T(-1) ? ((b & 1) ? T(-1) : T(1)) : T(0);
    u64 e = (u64)b;
    T base = a, result = T(1);
    while (e) {
      if (e & 1) result = T(result * base);
      base = T(base * base);
      e >>= 1;
    }
    return result;
  }
}
template <class T> __device__ __forceinline__ T shift_left_(T a, T b) {
  const i64 bits = 8 * sizeof(T);
  return (b < T(0) || (i64)b >= bits) ? T(0) : T((u64)a << (u64)b);
}
template <class T> __device__ __forceinline__ T shift_right_(T a, T b) {
  const i64 bits = 8 * sizeof(T);
  if (b < T(0) || (i64)b >= bits) return IsSigned<T>::value && a < T(0) ? T(-1) : T(0);
  return T(a >> b);
}
template <class T> __device__ __forceinline__ T sigmoid_(T x) {
  const T e = exp(-fabs(x));   // exp of a non-positive number only
  const T pos = T(1) / (T(1) + e);
  return x >= T(0) ? pos : e * pos;
}
template <class T> __device__ __forceinline__ T softplus_(T x, double beta, double threshold) {
  const T bx = x * T(beta);
  if (bx > T(threshold)) return x;
  return (log1p(exp(-fabs(bx))) + (bx > T(0) ? bx : T(0))) / T(beta);
}
template <class T> __device__ __forceinline__ T logaddexp_(T a, T b) {
  const T m = a > b ? a : b;
  if (isinf(m) && a == b) return a;
  if (isnan(a) || isnan(b)) return a + b;
  return m + log1p(exp(-fabs(a - b)));
}
template <class T> __device__ __forceinline__ T logaddexp2_(T a, T b) {
  const T m = a > b ? a : b;
  if (isinf(m) && a == b) return a;
  if (isnan(a) || isnan(b)) return a + b;
  return m + log1p(exp2(-fabs(a - b))) / T(0.69314718055994530942);
}
template <class T> __device__ __forceinline__ bool isclose_(T a, T b, double rtol, double atol,
                                                            bool equal_nan) {
  if (a == b) return true;
  if (isnan_(a) || isnan_(b)) return equal_nan && isnan_(a) && isnan_(b);
  if (isinf_(a) || isinf_(b)) return false;
  const double diff = (double)a > (double)b ? (double)a - (double)b : (double)b - (double)a;
  return diff <= atol + rtol * fabs((double)b);
}
template <class T> __device__ __forceinline__ T nan_to_num_(T x, double nan, double posinf,
                                                            double neginf) {
  if constexpr (IsFloat<T>::value) {
    if (isnan(x)) return T(nan);
    if (isinf(x)) return x > T(0) ? T(posinf) : T(neginf);
  }
  return x;
}
template <class T> __device__ __forceinline__ T gelu_(T x, double tanh_approx) {
  if (tanh_approx != 0)
    return T(0.5) * x * (T(1) + tanh(T(0.7978845608028654) * (x + T(0.044715) * x * x * x)));
  return T(0.5) * x * (T(1) + erf(x * T(0.7071067811865476)));
}
template <class T> __device__ __forceinline__ T lerp_(T start, T end, T weight) {
  const T diff = end - start;
  return fabs(weight) < T(0.5) ? start + weight * diff : end - diff * (T(1) - weight);
}
template <class T> __device__ __forceinline__ T clamp_(T x, T lo, T hi) {
  return min_(max_(x, lo), hi);
}

// y = EXPR(x)
#define UNARY_KERNEL(NAME, TIN, TOUT, EXPR)                                                   \
  extern "C" __global__ void NAME(const TIN* xs, TOUT* ys, const i64* __restrict__ meta,       \
                                  int ndim, i64 n, double p0, double p1, double p2) {          \
    typedef typename Opmath<TIN>::type T;                                                      \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[2];                                                                              \
      strided_offsets<2>(i, ndim, meta, off);                                                  \
      const T x = load(xs, off[0]);                                                            \
      ys[off[1]] = convert<TOUT>(EXPR);                                                        \
    }                                                                                          \
  }

// y = EXPR(a, b); a null operand pointer takes the scalar (a_f/a_i: its double and int64 value)
#define BINARY_KERNEL(NAME, TIN, TOUT, EXPR)                                                  \
  extern "C" __global__ void NAME(const TIN* as, const TIN* bs, TOUT* ys,                      \
                                  const i64* __restrict__ meta, int ndim, i64 n, double a_f,    \
                                  i64 a_i, double b_f, i64 b_i, double p0, double p1,          \
                                  double p2) {                                                 \
    typedef typename Opmath<TIN>::type T;                                                      \
    const T a_scalar = scalar_of<T>(a_f, a_i), b_scalar = scalar_of<T>(b_f, b_i);              \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[3];                                                                              \
      strided_offsets<3>(i, ndim, meta, off);                                                  \
      const T a = as ? load(as, off[0]) : a_scalar;                                            \
      const T b = bs ? load(bs, off[1]) : b_scalar;                                            \
      ys[off[2]] = convert<TOUT>(EXPR);                                                        \
    }                                                                                          \
  }

// y = EXPR(a, b, c), operands as in BINARY_KERNEL
#define TERNARY_KERNEL(NAME, TIN, TOUT, EXPR)                                                 \
  extern "C" __global__ void NAME(const TIN* as, const TIN* bs, const TIN* cs, TOUT* ys,       \
                                  const i64* __restrict__ meta, int ndim, i64 n, double a_f,    \
                                  i64 a_i, double b_f, i64 b_i, double c_f, i64 c_i) {         \
    typedef typename Opmath<TIN>::type T;                                                      \
    const T a_scalar = scalar_of<T>(a_f, a_i), b_scalar = scalar_of<T>(b_f, b_i);              \
    const T c_scalar = scalar_of<T>(c_f, c_i);                                                 \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[4];                                                                              \
      strided_offsets<4>(i, ndim, meta, off);                                                  \
      const T a = as ? load(as, off[0]) : a_scalar;                                            \
      const T b = bs ? load(bs, off[1]) : b_scalar;                                            \
      const T c = cs ? load(cs, off[2]) : c_scalar;                                            \
      ys[off[3]] = convert<TOUT>(EXPR);                                                        \
    }                                                                                          \
  }

// y = cond ? a : b, with a bool condition
#define WHERE_KERNEL(NAME, T)                                                                  \
  extern "C" __global__ void NAME(const bool* cond, const T* as, const T* bs, T* ys,           \
                                  const i64* __restrict__ meta, int ndim, i64 n, double a_f,    \
                                  i64 a_i, double b_f, i64 b_i) {                              \
    const T a_scalar = convert<T>(scalar_of<typename Opmath<T>::type>(a_f, a_i));              \
    const T b_scalar = convert<T>(scalar_of<typename Opmath<T>::type>(b_f, b_i));              \
    GRID_STRIDE_LOOP(i, n) {                                                                   \
      i64 off[4];                                                                              \
      strided_offsets<4>(i, ndim, meta, off);                                                  \
      ys[off[3]] = cond[off[0]] ? (as ? as[off[1]] : a_scalar) : (bs ? bs[off[2]] : b_scalar); \
    }                                                                                          \
  }
