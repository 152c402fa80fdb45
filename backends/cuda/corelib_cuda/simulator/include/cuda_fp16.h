// cuda_fp16.h for the corelib CUDA simulator: __half / __half2 on top of g++'s _Float16.
#pragma once
#ifndef CUDASIM_DISCOVER
#include "../cuda_sim.h"

struct __half_raw { unsigned short x; };
struct __half2_raw { unsigned short x, y; };

struct __attribute__((aligned(2))) __half {
  unsigned short __x;
  __half() = default;
  constexpr __half(const __half_raw& r) : __x(r.x) {}
  __half(float f) : __x(std::bit_cast<unsigned short>((_Float16)f)) {}
  __half(double f) : __x(std::bit_cast<unsigned short>((_Float16)f)) {}
  __half(int v) : __half((float)v) {}
  __half(unsigned int v) : __half((float)v) {}
  __half(short v) : __half((float)v) {}
  __half(unsigned short v) : __half((float)v) {}
  __half(long long v) : __half((float)v) {}
  __half(unsigned long long v) : __half((float)v) {}
  operator float() const { return (float)std::bit_cast<_Float16>(__x); }
  operator __half_raw() const { return __half_raw{__x}; }
  __half& operator=(const __half_raw& r) { __x = r.x; return *this; }
  __half& operator=(float f) { return *this = __half(f); }
  __half& operator=(double f) { return *this = __half(f); }
};
typedef __half half;

struct __attribute__((aligned(4))) __half2 {
  __half x, y;
  __half2() = default;
  constexpr __half2(const __half& a, const __half& b) : x(a), y(b) {}
  __half2(const __half2_raw& r) : x(__half_raw{r.x}), y(__half_raw{r.y}) {}
  operator __half2_raw() const { return __half2_raw{x.__x, y.__x}; }
};
typedef __half2 half2;

// conversions
static inline __half __float2half(float f) { return __half(f); }
static inline __half __float2half_rn(float f) { return __half(f); }
static inline __half __double2half(double f) { return __half(f); }
static inline float __half2float(__half h) { return (float)h; }
static inline __half __ushort_as_half(unsigned short u) { return __half(__half_raw{u}); }
static inline unsigned short __half_as_ushort(__half h) { return h.__x; }
static inline __half __short_as_half(short u) { return __half(__half_raw{(unsigned short)u}); }
static inline short __half_as_short(__half h) { return (short)h.__x; }
static inline __half __int2half_rn(int v) { return __half((float)v); }
static inline __half __uint2half_rn(unsigned int v) { return __half((float)v); }
static inline __half __short2half_rn(short v) { return __half((float)v); }
static inline __half __ushort2half_rn(unsigned short v) { return __half((float)v); }
static inline __half __ll2half_rn(long long v) { return __half((double)v); }
static inline __half __ull2half_rn(unsigned long long v) { return __half((double)v); }
static inline int __half2int_rz(__half h) { return __float2int_rz((float)h); }
static inline int __half2int_rn(__half h) { return __float2int_rn((float)h); }
static inline int __half2int_rd(__half h) { return __float2int_rd((float)h); }
static inline int __half2int_ru(__half h) { return __float2int_ru((float)h); }
static inline unsigned int __half2uint_rz(__half h) { return __float2uint_rz((float)h); }
static inline unsigned int __half2uint_rn(__half h) { return __float2uint_rn((float)h); }
static inline long long __half2ll_rz(__half h) { return __float2ll_rz((float)h); }
static inline long long __half2ll_rn(__half h) { return __float2ll_rn((float)h); }
static inline short __half2short_rz(__half h) { return (short)cudasim::sat_cvt<short>(std::trunc((float)h)); }
static inline short __half2short_rn(__half h) { return (short)cudasim::sat_cvt<short>(std::nearbyint((float)h)); }
static inline __half2 __float2half2_rn(float f) { return __half2(__half(f), __half(f)); }
static inline __half2 __floats2half2_rn(float a, float b) { return __half2(__half(a), __half(b)); }
static inline __half2 __float22half2_rn(float2 f) { return __half2(__half(f.x), __half(f.y)); }
static inline float2 __half22float2(__half2 h) { return float2{(float)h.x, (float)h.y}; }
static inline float __low2float(__half2 h) { return (float)h.x; }
static inline float __high2float(__half2 h) { return (float)h.y; }
static inline __half __low2half(__half2 h) { return h.x; }
static inline __half __high2half(__half2 h) { return h.y; }
static inline __half2 __halves2half2(__half a, __half b) { return __half2(a, b); }
static inline __half2 __half2half2(__half a) { return __half2(a, a); }
static inline __half2 make_half2(__half a, __half b) { return __half2(a, b); }
static inline __half2 __lows2half2(__half2 a, __half2 b) { return __half2(a.x, b.x); }
static inline __half2 __highs2half2(__half2 a, __half2 b) { return __half2(a.y, b.y); }
static inline __half2 __low2half2(__half2 a) { return __half2(a.x, a.x); }
static inline __half2 __high2half2(__half2 a) { return __half2(a.y, a.y); }

// arithmetic: computed in float, rounded once to half (exact for + - * / sqrt)
#define CUDASIM_HBIN(NAME, EXPR)                                                              \
  static inline __half NAME(__half a, __half b) { float x = (float)a, y = (float)b; return __half(EXPR); } \
  static inline __half2 NAME##2(__half2 a, __half2 b) { return __half2(NAME(a.x, b.x), NAME(a.y, b.y)); }
CUDASIM_HBIN(__hadd, x + y)
CUDASIM_HBIN(__hsub, x - y)
CUDASIM_HBIN(__hmul, x * y)
CUDASIM_HBIN(__hdiv, x / y)
CUDASIM_HBIN(__hmax, fmaxf(x, y))
CUDASIM_HBIN(__hmin, fminf(x, y))
CUDASIM_HBIN(__hadd_rn, x + y)
CUDASIM_HBIN(__hsub_rn, x - y)
CUDASIM_HBIN(__hmul_rn, x * y)
CUDASIM_HBIN(__hadd_sat, __saturatef(x + y))
CUDASIM_HBIN(__hmul_sat, __saturatef(x * y))
#undef CUDASIM_HBIN
static inline __half __hfma(__half a, __half b, __half c) { return __half(fma((double)(float)a, (float)b, (float)c)); }
static inline __half2 __hfma2(__half2 a, __half2 b, __half2 c) { return __half2(__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)); }
static inline __half __hneg(__half a) { return __ushort_as_half(a.__x ^ 0x8000u); }
static inline __half2 __hneg2(__half2 a) { return __half2(__hneg(a.x), __hneg(a.y)); }
static inline __half __habs(__half a) { return __ushort_as_half(a.__x & 0x7fffu); }
static inline __half2 __habs2(__half2 a) { return __half2(__habs(a.x), __habs(a.y)); }
#define CUDASIM_HCMP(NAME, OP)                                                                 \
  static inline bool NAME(__half a, __half b) { return (float)a OP (float)b; }
CUDASIM_HCMP(__heq, ==) CUDASIM_HCMP(__hne, !=) CUDASIM_HCMP(__hlt, <) CUDASIM_HCMP(__hle, <=)
CUDASIM_HCMP(__hgt, >) CUDASIM_HCMP(__hge, >=)
#undef CUDASIM_HCMP
static inline bool __hisnan(__half a) { return (a.__x & 0x7fffu) > 0x7c00u; }
static inline int __hisinf(__half a) { return (a.__x & 0x7fffu) == 0x7c00u ? ((a.__x & 0x8000u) ? -1 : 1) : 0; }
#define CUDASIM_HFUN(NAME, F)                                                                  \
  static inline __half NAME(__half a) { return __half(F((float)a)); }                        \
  static inline __half2 NAME##2(__half2 a) { return __half2(NAME(a.x), NAME(a.y)); }
CUDASIM_HFUN(hexp, expf) CUDASIM_HFUN(hexp2, exp2f) CUDASIM_HFUN(hexp10, exp10f)
CUDASIM_HFUN(hlog, logf) CUDASIM_HFUN(hlog2, log2f) CUDASIM_HFUN(hlog10, log10f)
CUDASIM_HFUN(hsqrt, sqrtf) CUDASIM_HFUN(hrsqrt, rsqrtf) CUDASIM_HFUN(hsin, sinf) CUDASIM_HFUN(hcos, cosf)
CUDASIM_HFUN(hfloor, floorf) CUDASIM_HFUN(hceil, ceilf) CUDASIM_HFUN(htrunc, truncf) CUDASIM_HFUN(hrint, rintf)
CUDASIM_HFUN(hrcp, 1.0f /)
#undef CUDASIM_HFUN

// operators (CUDA provides these for sm_53+)
#define CUDASIM_HOP(OP, F)                                                                      \
  static inline __half operator OP(const __half& a, const __half& b) { return F(a, b); }      \
  static inline __half& operator OP##=(__half& a, const __half& b) { return a = F(a, b); }
CUDASIM_HOP(+, __hadd) CUDASIM_HOP(-, __hsub) CUDASIM_HOP(*, __hmul) CUDASIM_HOP(/, __hdiv)
#undef CUDASIM_HOP
static inline __half operator-(const __half& a) { return __hneg(a); }
static inline __half operator+(const __half& a) { return a; }
static inline bool operator==(const __half& a, const __half& b) { return __heq(a, b); }
static inline bool operator!=(const __half& a, const __half& b) { return __hne(a, b); }
static inline bool operator<(const __half& a, const __half& b) { return __hlt(a, b); }
static inline bool operator<=(const __half& a, const __half& b) { return __hle(a, b); }
static inline bool operator>(const __half& a, const __half& b) { return __hgt(a, b); }
static inline bool operator>=(const __half& a, const __half& b) { return __hge(a, b); }

// atomics & shuffles on halves
static inline __half atomicAdd(__half* p, __half v) {
  auto a = cudasim::aref(&p->__x);
  unsigned short old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, __hadd(__ushort_as_half(old), v).__x, std::memory_order_relaxed)) {}
  return __ushort_as_half(old);
}
static inline __half2 atomicAdd(__half2* p, __half2 v) {
  __half2 r;
  r.x = atomicAdd(&p->x, v.x);
  r.y = atomicAdd(&p->y, v.y);
  return r;
}
#endif
