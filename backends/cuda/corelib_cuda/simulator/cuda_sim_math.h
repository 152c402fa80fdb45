// cuda_sim_math.h -- CUDA device math / intrinsic functions for the CPU simulator.
// Included by cuda_sim.h. The C/C++ math library already provides expf, logf, erff, lgammaf, ...
// and (through <cmath> + <math.h>) the float overloads exp(float) -> float etc. in the global namespace.
#pragma once

#ifndef INFINITY
#define INFINITY __builtin_inff()
#endif
#ifndef NAN
#define NAN __builtin_nanf("")
#endif
#define CUDART_INF_F __builtin_inff()
#define CUDART_NAN_F __builtin_nanf("")
#define CUDART_INF __builtin_inf()
#define CUDART_NAN __builtin_nan("")
#define CUDART_PI_F 3.141592654f
#define CUDART_PI 3.1415926535897931e+0

// ---- min / max: CUDA's overload set (same ambiguities as CUDA for unlisted mixes)
#define CUDASIM_MINMAX(R, A, B)                                                     \
  static inline R min(A a, B b) { return (R)a < (R)b ? (R)a : (R)b; }              \
  static inline R max(A a, B b) { return (R)a > (R)b ? (R)a : (R)b; }
CUDASIM_MINMAX(int, int, int)
CUDASIM_MINMAX(unsigned int, unsigned int, unsigned int)
CUDASIM_MINMAX(unsigned int, int, unsigned int)
CUDASIM_MINMAX(unsigned int, unsigned int, int)
CUDASIM_MINMAX(long, long, long)
CUDASIM_MINMAX(unsigned long, unsigned long, unsigned long)
CUDASIM_MINMAX(unsigned long, long, unsigned long)
CUDASIM_MINMAX(unsigned long, unsigned long, long)
CUDASIM_MINMAX(long long, long long, long long)
CUDASIM_MINMAX(unsigned long long, unsigned long long, unsigned long long)
CUDASIM_MINMAX(unsigned long long, long long, unsigned long long)
CUDASIM_MINMAX(unsigned long long, unsigned long long, long long)
#undef CUDASIM_MINMAX
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }
static inline double min(float a, double b) { return fmin((double)a, b); }
static inline double max(float a, double b) { return fmax((double)a, b); }
static inline double min(double a, float b) { return fmin(a, (double)b); }
static inline double max(double a, float b) { return fmax(a, (double)b); }
static inline unsigned int umin(unsigned int a, unsigned int b) { return a < b ? a : b; }
static inline unsigned int umax(unsigned int a, unsigned int b) { return a > b ? a : b; }
static inline long long llmin(long long a, long long b) { return a < b ? a : b; }
static inline long long llmax(long long a, long long b) { return a > b ? a : b; }
static inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return a > b ? a : b; }

// ---- reinterpretation
static inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
static inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
static inline float __uint_as_float(unsigned int x) { return std::bit_cast<float>(x); }
static inline unsigned int __float_as_uint(float x) { return std::bit_cast<unsigned int>(x); }
static inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }
static inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
static inline int __double2hiint(double x) { return (int)(std::bit_cast<unsigned long long>(x) >> 32); }
static inline int __double2loint(double x) { return (int)(unsigned)std::bit_cast<unsigned long long>(x); }
static inline double __hiloint2double(int hi, int lo) {
  return std::bit_cast<double>(((unsigned long long)(unsigned)hi << 32) | (unsigned)lo);
}

// ---- float -> int conversions (CUDA saturates; NaN -> 0)
namespace cudasim {
template <class I, class F>
static inline I sat_cvt(F r) {
  if (r != r) return 0;
  if (r <= (F)std::numeric_limits<I>::min()) return std::numeric_limits<I>::min();
  if (r >= (F)std::numeric_limits<I>::max()) return std::numeric_limits<I>::max();
  return (I)r;
}
}  // namespace cudasim
#define CUDASIM_F2I(SUF, F, I, NAME)                                                               \
  static inline I __##NAME##_rn(F x) { return cudasim::sat_cvt<I>(std::nearbyint(x)); }           \
  static inline I __##NAME##_rz(F x) { return cudasim::sat_cvt<I>(std::trunc(x)); }               \
  static inline I __##NAME##_rd(F x) { return cudasim::sat_cvt<I>(std::floor(x)); }               \
  static inline I __##NAME##_ru(F x) { return cudasim::sat_cvt<I>(std::ceil(x)); }
CUDASIM_F2I(f, float, int, float2int)
CUDASIM_F2I(f, float, unsigned int, float2uint)
CUDASIM_F2I(f, float, long long, float2ll)
CUDASIM_F2I(f, float, unsigned long long, float2ull)
CUDASIM_F2I(d, double, int, double2int)
CUDASIM_F2I(d, double, unsigned int, double2uint)
CUDASIM_F2I(d, double, long long, double2ll)
CUDASIM_F2I(d, double, unsigned long long, double2ull)
#undef CUDASIM_F2I
static inline float __int2float_rn(int x) { return (float)x; }
static inline float __uint2float_rn(unsigned int x) { return (float)x; }
static inline float __ll2float_rn(long long x) { return (float)x; }
static inline float __ull2float_rn(unsigned long long x) { return (float)x; }
static inline double __int2double_rn(int x) { return (double)x; }
static inline double __uint2double_rn(unsigned int x) { return (double)x; }
static inline double __ll2double_rn(long long x) { return (double)x; }
static inline double __ull2double_rn(unsigned long long x) { return (double)x; }
static inline float __double2float_rn(double x) { return (float)x; }
static inline float __double2float_rz(double x) {
  float f = (float)x;
  if (std::isfinite(x) && std::fabs((double)f) > std::fabs(x)) f = std::nextafter(f, 0.0f);
  return f;
}

// ---- fast / rounding-mode intrinsics (computed in round-to-nearest)
// glibc's <math.h> declares __expf, __logf, ... (extern "C", not exported): define them here.
extern "C" {
inline float __expf(float x) noexcept { return expf(x); }
inline float __exp10f(float x) noexcept { return exp10f(x); }
inline float __logf(float x) noexcept { return logf(x); }
inline float __log2f(float x) noexcept { return log2f(x); }
inline float __log10f(float x) noexcept { return log10f(x); }
inline float __powf(float x, float y) noexcept { return powf(x, y); }
inline float __sinf(float x) noexcept { return sinf(x); }
inline float __cosf(float x) noexcept { return cosf(x); }
inline float __tanf(float x) noexcept { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) noexcept { *s = sinf(x); *c = cosf(x); }
}
static inline float __fdividef(float a, float b) { return a / b; }
static inline float fdividef(float a, float b) { return a / b; }
static inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }
#define CUDASIM_RN(F, SUF)                                                          \
  static inline F __##SUF##add_rn(F a, F b) { return a + b; }                      \
  static inline F __##SUF##add_rz(F a, F b) { return a + b; }                      \
  static inline F __##SUF##sub_rn(F a, F b) { return a - b; }                      \
  static inline F __##SUF##mul_rn(F a, F b) { return a * b; }                      \
  static inline F __##SUF##mul_rz(F a, F b) { return a * b; }                      \
  static inline F __##SUF##div_rn(F a, F b) { return a / b; }                      \
  static inline F __##SUF##rcp_rn(F a) { return (F)1 / a; }                        \
  static inline F __##SUF##sqrt_rn(F a) { return std::sqrt(a); }
CUDASIM_RN(float, f)
CUDASIM_RN(double, d)
#undef CUDASIM_RN
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline float __fmaf_rz(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
static inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
static inline double rcbrt(double x) { return 1.0 / cbrt(x); }
static inline float saturatef(float x) { return __saturatef(x); }
static inline float sinpif(float x) { return (float)sin(CUDART_PI * (double)x); }
static inline float cospif(float x) { return (float)cos(CUDART_PI * (double)x); }
static inline double sinpi(double x) { return sin(CUDART_PI * x); }
static inline double cospi(double x) { return cos(CUDART_PI * x); }
static inline void sincospif(float x, float* s, float* c) { *s = sinpif(x); *c = cospif(x); }
static inline void sincospi(double x, double* s, double* c) { *s = sinpi(x); *c = cospi(x); }
static inline float norm3df(float a, float b, float c) { return sqrtf(a * a + b * b + c * c); }
static inline float rhypotf(float a, float b) { return 1.0f / hypotf(a, b); }
static inline double rhypot(double a, double b) { return 1.0 / hypot(a, b); }

// ---- inverse error functions & normal distribution
namespace cudasim {
static inline double erfinv_guess(double w, double x) {  // Giles (2010), w = -log((1-x)(1+x))
  double p;
  if (w < 6.25) {
    w -= 3.125;
    p = -3.6444120640178196996e-21; p = -1.685059138182016589e-19 + p * w; p = 1.2858480715256400167e-18 + p * w;
    p = 1.115787767802518096e-17 + p * w; p = -1.333171662854620906e-16 + p * w; p = 2.0972767875968561637e-17 + p * w;
    p = 6.6376381343583238325e-15 + p * w; p = -4.0545662729752068639e-14 + p * w; p = -8.1519341976054721522e-14 + p * w;
    p = 2.6335093153082322977e-12 + p * w; p = -1.2975133253453532498e-11 + p * w; p = -5.4154120542946279317e-11 + p * w;
    p = 1.051212273321532285e-09 + p * w; p = -4.1126339803469836976e-09 + p * w; p = -2.9070369957882005086e-08 + p * w;
    p = 4.2347877827932403518e-07 + p * w; p = -1.3654692000834678645e-06 + p * w; p = -1.3882523362786468719e-05 + p * w;
    p = 0.0001867342080340571352 + p * w; p = -0.00074070253416626697512 + p * w; p = -0.0060336708714301490533 + p * w;
    p = 0.24015818242558961693 + p * w; p = 1.6536545626831027356 + p * w;
  } else if (w < 16.0) {
    w = sqrt(w) - 3.25;
    p = 2.2137376921775787049e-09; p = 9.0756561938885390979e-08 + p * w; p = -2.7517406297064545428e-07 + p * w;
    p = 1.8239629214389227755e-08 + p * w; p = 1.5027403968909827627e-06 + p * w; p = -4.013867526981545969e-06 + p * w;
    p = 2.9234449089955446044e-06 + p * w; p = 1.2475304481671778723e-05 + p * w; p = -4.7318229009055733981e-05 + p * w;
    p = 6.8284851459573175448e-05 + p * w; p = 2.4031110387097893999e-05 + p * w; p = -0.0003550375203628474796 + p * w;
    p = 0.00095328937973738049703 + p * w; p = -0.0016882755560235047313 + p * w; p = 0.0024914420961078508066 + p * w;
    p = -0.0037512085075692412107 + p * w; p = 0.005370914553590063617 + p * w; p = 1.0052589676941592334 + p * w;
    p = 3.0838856104922207635 + p * w;
  } else {
    w = sqrt(w) - 5.0;
    p = -2.7109920616438573243e-11; p = -2.5556418169965252055e-10 + p * w; p = 1.5076572693500548083e-09 + p * w;
    p = -3.7894654401267369937e-09 + p * w; p = 7.6157012080783393804e-09 + p * w; p = -1.4960026627149240478e-08 + p * w;
    p = 2.9147953450901080826e-08 + p * w; p = -6.7711997758452339498e-08 + p * w; p = 2.2900482228026654717e-07 + p * w;
    p = -9.9298272942317002539e-07 + p * w; p = 4.5260625972231537039e-06 + p * w; p = -1.9681778105531670567e-05 + p * w;
    p = 7.5995277030017761139e-05 + p * w; p = -0.00021503011930044477347 + p * w; p = -0.00013871931833623122026 + p * w;
    p = 1.0103004648645343977 + p * w; p = 4.8499064014085844221 + p * w;
  }
  return p * x;
}
// Newton refinement on erfc for the upper tail (t = 1 - |x| computed exactly by the caller)
static inline double erfcinv_pos(double t) {  // returns z > 0 with erfc(z) = t, 0 < t <= 1
  double w = -log(t * (2.0 - t));
  double z = erfinv_guess(w, 1.0 - t);
  if (!(z > 0) || !std::isfinite(z)) z = sqrt(w);
  for (int i = 0; i < 4; ++i) {
    double d = 1.1283791670955126 * exp(-z * z);
    if (d == 0) break;
    double step = (erfc(z) - t) / d;
    z += step;
    if (fabs(step) <= 1e-17 * fabs(z)) break;
  }
  return z;
}
}  // namespace cudasim
static inline double erfinv(double x) {
  if (x != x || x < -1.0 || x > 1.0) return CUDART_NAN;
  if (x == 1.0) return CUDART_INF;
  if (x == -1.0) return -CUDART_INF;
  double ax = fabs(x), z;
  if (ax <= 0.5) {
    z = cudasim::erfinv_guess(-log((1.0 - ax) * (1.0 + ax)), ax);
    for (int i = 0; i < 3; ++i) z -= (erf(z) - ax) / (1.1283791670955126 * exp(-z * z));
  } else {
    z = cudasim::erfcinv_pos(1.0 - ax);
  }
  return copysign(z, x);
}
static inline double erfcinv(double y) {
  if (y != y || y < 0.0 || y > 2.0) return CUDART_NAN;
  if (y == 0.0) return CUDART_INF;
  if (y == 2.0) return -CUDART_INF;
  if (y > 1.0) return -cudasim::erfcinv_pos(2.0 - y);
  if (y >= 0.5) return erfinv(1.0 - y);
  return cudasim::erfcinv_pos(y);
}
static inline float erfinvf(float x) { return (float)erfinv((double)x); }
static inline float erfcinvf(float y) { return (float)erfcinv((double)y); }
static inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
static inline float normcdff(float x) { return (float)normcdf((double)x); }
static inline double normcdfinv(double p) { return -1.41421356237309504880 * erfcinv(2.0 * p); }
static inline float normcdfinvf(float p) { return (float)normcdfinv((double)p); }
static inline float erfcxf(float x) { return (float)(exp((double)x * x) * erfc((double)x)); }
static inline double erfcx(double x) { return x < 25 ? exp(x * x) * erfc(x) : 1.0 / (x * 1.7724538509055160273) * (1 - 0.5 / (x * x)); }

// ---- integer intrinsics
static inline int __popc(unsigned int x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
static inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  return __builtin_bswap32(x);
}
static inline unsigned long long __brevll(unsigned long long x) {
  return ((unsigned long long)__brev((unsigned)x) << 32) | __brev((unsigned)(x >> 32));
}
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned int __umulhi(unsigned int a, unsigned int b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static inline int __mul24(int a, int b) { return (int)((long long)(a << 8 >> 8) * (b << 8 >> 8)); }
static inline unsigned int __umul24(unsigned int a, unsigned int b) { return (a & 0xffffffu) * (b & 0xffffffu); }
static inline int __hadd(int a, int b) { return (int)(((long long)a + b) >> 1); }
static inline int __rhadd(int a, int b) { return (int)(((long long)a + b + 1) >> 1); }
static inline unsigned int __uhadd(unsigned int a, unsigned int b) { return (unsigned)(((unsigned long long)a + b) >> 1); }
static inline unsigned int __urhadd(unsigned int a, unsigned int b) { return (unsigned)(((unsigned long long)a + b + 1) >> 1); }
static inline unsigned int __sad(int x, int y, unsigned int z) { return z + (unsigned)(x > y ? x - y : y - x); }
static inline unsigned int __usad(unsigned int x, unsigned int y, unsigned int z) { return z + (x > y ? x - y : y - x); }
static inline unsigned int __byte_perm(unsigned int x, unsigned int y, unsigned int s) {
  unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
static inline unsigned int __funnelshift_l(unsigned int lo, unsigned int hi, unsigned int sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (sh & 31)) >> 32);
}
static inline unsigned int __funnelshift_lc(unsigned int lo, unsigned int hi, unsigned int sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)((v << (sh > 32 ? 32 : sh)) >> 32);
}
static inline unsigned int __funnelshift_r(unsigned int lo, unsigned int hi, unsigned int sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (sh & 31));
}
static inline unsigned int __funnelshift_rc(unsigned int lo, unsigned int hi, unsigned int sh) {
  unsigned long long v = ((unsigned long long)hi << 32) | lo;
  return (unsigned)(v >> (sh > 32 ? 32 : sh));
}

// ---- cache-hinted loads/stores
template <class T> static inline T __ldg(const T* p) { return *p; }
template <class T> static inline T __ldcg(const T* p) { return *p; }
template <class T> static inline T __ldca(const T* p) { return *p; }
template <class T> static inline T __ldcs(const T* p) { return *p; }
template <class T> static inline T __ldlu(const T* p) { return *p; }
template <class T> static inline T __ldcv(const T* p) { return *p; }
template <class T> static inline void __stwb(T* p, T v) { *p = v; }
template <class T> static inline void __stcg(T* p, T v) { *p = v; }
template <class T> static inline void __stcs(T* p, T v) { *p = v; }
template <class T> static inline void __stwt(T* p, T v) { *p = v; }
