// cuda_sim.h -- run unmodified CUDA C kernels on the CPU (corelib-cuda simulator).
//
// Force-included before the kernel source. Every thread of a block is a fiber (a user-level
// context with its own stack) on one OS thread; fibers switch only at __syncthreads and warp-level
// operations, so the kernel body between synchronisation points runs as native compiled code.
// __shared__ variables are thread_local: per OS thread, i.e. per block being executed.
//
// Macros visible to kernel code: __CUDACC__, __CUDA_ARCH__ (=800), CORELIB_CUDA_SIM (=1).
#pragma once
#ifndef CORELIB_CUDA_SIM_H
#define CORELIB_CUDA_SIM_H 1

#define CORELIB_CUDA_SIM 1
#ifndef __CUDACC__
#define __CUDACC__ 1
#endif
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 800
#endif

#ifdef CUDASIM_DISCOVER
// Discovery pass (g++ -E): keep markers so the build can find kernels and dynamic shared arrays.
#define __global__ __cudasim_global__
#define __shared__ __cudasim_shared__
#define __align__(n)
#define __launch_bounds__(...)
#define __device__
#define __host__
#define __forceinline__
#define __noinline__
#define __constant__
#define __managed__
#define __grid_constant__
#else  // ---------------------------------------------------------------- real build

#include <cstdarg>
#include <limits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <climits>
#include <cfloat>
#include <cmath>
#include <math.h>
#include <atomic>
#include <bit>
#include <tuple>
#include <type_traits>
#include <utility>
#include <assert.h>
#include <sys/mman.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define CUDASIM_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define CUDASIM_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define CUDASIM_ASAN_POISON(p, n) ((void)0)
#define CUDASIM_ASAN_UNPOISON(p, n) ((void)0)
#endif

#define CUDASIM_EXPORT extern "C" __attribute__((visibility("default")))

// ------------------------------------------------------------------ qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ __inline__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ thread_local
#define __constant__
#define __managed__
#define __grid_constant__

// ------------------------------------------------------------------ vector & index types
#define CUDASIM_VEC(T, N, A2, A4)                                                          \
  struct N##1 { T x; };                                                                    \
  struct __attribute__((aligned(A2))) N##2 { T x, y; };                                    \
  struct N##3 { T x, y, z; };                                                              \
  struct __attribute__((aligned(A4))) N##4 { T x, y, z, w; };                              \
  static inline N##1 make_##N##1(T x) { return N##1{x}; }                                  \
  static inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }                          \
  static inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }                  \
  static inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }
CUDASIM_VEC(signed char, char, 2, 4)
CUDASIM_VEC(unsigned char, uchar, 2, 4)
CUDASIM_VEC(short, short, 4, 8)
CUDASIM_VEC(unsigned short, ushort, 4, 8)
CUDASIM_VEC(int, int, 8, 16)
CUDASIM_VEC(unsigned int, uint, 8, 16)
CUDASIM_VEC(long, long, 16, 16)
CUDASIM_VEC(unsigned long, ulong, 16, 16)
CUDASIM_VEC(long long, longlong, 16, 16)
CUDASIM_VEC(unsigned long long, ulonglong, 16, 16)
CUDASIM_VEC(float, float, 8, 16)
CUDASIM_VEC(double, double, 16, 16)
#undef CUDASIM_VEC

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// Runtime state is process-global (not thread_local): the Python side serialises launches.
// __shared__ variables are thread_local only because `extern __shared__` must stay valid C++.
static uint3 threadIdx;
static uint3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
static constexpr int warpSize = 32;

// ------------------------------------------------------------------ fiber runtime
namespace cudasim {

enum : int { RUNNABLE = 0, DONE = 1, AT_SYNC = 2, AT_WARP = 3, TRAPPED = 4 };
enum : int {
  OP_SYNCWARP = 1, OP_SHFL, OP_BALLOT, OP_MATCH_ANY, OP_MATCH_ALL,
  OP_RED_ADD, OP_RED_MIN_S, OP_RED_MAX_S, OP_RED_MIN_U, OP_RED_MAX_U, OP_RED_AND, OP_RED_OR, OP_RED_XOR
};
enum : int { SYNC_PLAIN = 0, SYNC_COUNT, SYNC_AND, SYNC_OR };

static constexpr int kMaxThreads = 1024;
static constexpr int kMaxFibers = kMaxThreads + 2;
static constexpr size_t kStackSize = 128 * 1024;  // per fiber, lazily committed (MAP_NORESERVE)
static constexpr size_t kGuard = 4096;  // PROT_NONE page below each stack
static constexpr uint64_t kPoison = ~0ull;  // value read from a lane outside the shuffle's mask

struct Fiber {
  void* sp;  // saved stack pointer while not running
};

// One CUDA thread of the current block. A thread runs on a fiber; a fiber that finishes a thread
// immediately runs the next not-yet-started thread of the pass (no context switch), so only threads
// that suspend at a barrier keep a fiber of their own.
struct Slot {
  Fiber* fiber;  // non-null while suspended mid-kernel
  uint3 tid;
  int lin;       // linear thread index in the block
  int state;
  int op;        // pending warp op / block-sync kind
  uint32_t mask;
  int src;       // shuffle source lane (-1: own value)
  int pred;
  uint64_t val;
  uint64_t res;
};

struct Runtime {
  void* sched_sp;
  Slot* cur;
  Slot* slots;
  Fiber* fibers;
  Fiber** freelist;
  int nfree;
  int nfib;           // fibers [0, nfib) have been created
  unsigned char* stacks;
  int* order;         // current pass: slot indices in schedule order
  int npass, pos;
  void (*thunk)(void*);
  void* ctx;
  int failed;
  int sync_result;
  const char* kname;
  unsigned tid_dims[3];  // block shape for which slots[].tid is valid
};
static Runtime rt;
static char rt_err[2048];

}  // namespace cudasim

extern "C" __attribute__((visibility("hidden"))) void __cudasim_swap(void** save_sp, void* load_sp);
extern "C" __attribute__((visibility("hidden"))) void __cudasim_fiber_start();
asm(R"(
  .text
  .p2align 4
  .globl __cudasim_swap
  .hidden __cudasim_swap
  .type __cudasim_swap,@function
__cudasim_swap:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size __cudasim_swap, .-__cudasim_swap
  .p2align 4
  .globl __cudasim_fiber_start
  .hidden __cudasim_fiber_start
  .type __cudasim_fiber_start,@function
__cudasim_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size __cudasim_fiber_start, .-__cudasim_fiber_start
)");

namespace cudasim {

static inline void swap_to(void** save, void* target) {
  asm volatile("" ::: "memory");
  __cudasim_swap(save, target);
  asm volatile("" ::: "memory");
}

// Next item of the current pass (sets rt.cur and threadIdx), or nullptr at the end of the pass.
static inline Slot* next_item() {
  if (rt.pos >= rt.npass) return nullptr;
  Slot* s = &rt.slots[rt.order[rt.pos++]];
  rt.cur = s;
  threadIdx = s->tid;
  if (rt.pos < rt.npass) {  // warm up the context of the item after this one
    Slot* t = &rt.slots[rt.order[rt.pos]];
    if (t->fiber) {
      __builtin_prefetch(t->fiber->sp);
      __builtin_prefetch((char*)t->fiber->sp + 56);
    }
  }
  return s;
}

[[noreturn]] static void fiber_main(void* arg);

static void init_fiber(Fiber* f) {
  size_t i = (size_t)(f - rt.fibers);
  unsigned char* base = rt.stacks + i * (kStackSize + kGuard) + kGuard;
  // stagger the stack tops so that the fibers' hot frames do not all map to the same cache sets
  uintptr_t top = ((uintptr_t)(base + kStackSize - (i % 61) * 64)) & ~(uintptr_t)15;
  void** sp = (void**)top;
  *--sp = (void*)&__cudasim_fiber_start;  // return address (top - 8)
  *--sp = nullptr;                        // rbp
  *--sp = nullptr;                        // rbx
  *--sp = (void*)f;                       // r12: argument
  *--sp = (void*)&fiber_main;             // r13: entry
  *--sp = nullptr;                        // r14
  *--sp = nullptr;                        // r15
  f->sp = sp;
}

static inline Fiber* get_free() {
  if (rt.nfree) return rt.freelist[--rt.nfree];
  Fiber* f = &rt.fibers[rt.nfib++];  // cannot overflow: at most kMaxThreads suspended + 1 running
  init_fiber(f);
  return f;
}

// Context of the item `n` (a fresh thread runs on an idle fiber), or the scheduler when n is null.
static inline void* target_of(Slot* n) {
  if (!n) return rt.sched_sp;
  if (n->fiber) return n->fiber->sp;
  return get_free()->sp;
}

[[noreturn]] static void fiber_main(void* arg) {
  Fiber* F = static_cast<Fiber*>(arg);
  for (;;) {
    Slot* s = rt.cur;  // a not-yet-started thread chosen by whoever switched to us
    for (;;) {
      s->fiber = F;
      rt.thunk(rt.ctx);
      s->fiber = nullptr;
      s->state = DONE;
      s = next_item();
      if (!s || s->fiber) break;  // next is a suspended thread (or end of pass): leave this fiber
    }
    rt.freelist[rt.nfree++] = F;
    swap_to(&F->sp, s ? s->fiber->sp : rt.sched_sp);
  }
}

static void* alloc_stacks() {
  size_t total = (size_t)kMaxFibers * (kStackSize + kGuard);
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  for (int i = 0; i < kMaxFibers; ++i)
    mprotect((unsigned char*)p + (size_t)i * (kStackSize + kGuard), kGuard, PROT_NONE);
  return p;
}

// Fiber stacks are shared by every module of the process (Python hands the first module's region to
// the others; launches never overlap), so no fiber context survives a launch: they are rebuilt lazily.
static bool ensure_runtime() {
  if (!rt.slots) {
    rt.slots = (Slot*)calloc(kMaxThreads, sizeof(Slot));
    rt.fibers = (Fiber*)calloc(kMaxFibers, sizeof(Fiber));
    rt.freelist = (Fiber**)calloc(kMaxFibers, sizeof(Fiber*));
    rt.order = (int*)calloc(kMaxThreads, sizeof(int));
    if (!rt.slots || !rt.fibers || !rt.freelist || !rt.order) {
      free(rt.slots), free(rt.fibers), free(rt.freelist), free(rt.order);
      rt.slots = nullptr;
      return false;
    }
  }
  if (!rt.stacks) rt.stacks = (unsigned char*)alloc_stacks();
  rt.nfib = rt.nfree = 0;
  return rt.stacks != nullptr;
}

static void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char* fmt, ...) {
  if (rt.failed) return;
  rt.failed = 1;
  int k = snprintf(rt_err, sizeof rt_err, "kernel '%s' block (%u,%u,%u): ", rt.kname ? rt.kname : "?",
                   blockIdx.x, blockIdx.y, blockIdx.z);
  if (k < 0 || k >= (int)sizeof rt_err) k = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rt_err + k, sizeof rt_err - k, fmt, ap);
  va_end(ap);
}

// Called from inside a fiber: abort the whole launch (never returns to the caller).
[[noreturn]] static void trap_here() {
  Slot* s = rt.cur;
  s->state = TRAPPED;
  void* dummy;
  __cudasim_swap(&dummy, rt.sched_sp);
  __builtin_unreachable();
}

// Suspend the current thread (its state is already set) and run the next item of the pass.
static inline void suspend(Slot* s) {
  Fiber* F = s->fiber;
  swap_to(&F->sp, target_of(next_item()));
  // resumed: rt.cur == s and threadIdx restored by next_item()
}

// ---- sync primitives (called from fibers)
static inline int block_sync(int kind, int pred) {
  Slot* s = rt.cur;
  s->state = AT_SYNC;
  s->op = kind;
  s->pred = pred;
  suspend(s);
  return rt.sync_result;
}

static inline uint64_t warp_op(int op, uint32_t mask, uint64_t val, int src, int pred) {
  Slot* s = rt.cur;
  s->state = AT_WARP;
  s->op = op;
  s->mask = mask;
  s->val = val;
  s->src = src;
  s->pred = pred;
  suspend(s);
  return s->res;
}

static inline int lane_id() { return rt.cur->lin & 31; }

// ---- scheduler
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
};

static inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static const char* op_name(int op) {
  switch (op) {
    case OP_SYNCWARP: return "__syncwarp";
    case OP_SHFL: return "__shfl*_sync";
    case OP_BALLOT: return "__ballot/__any/__all_sync";
    case OP_MATCH_ANY: return "__match_any_sync";
    case OP_MATCH_ALL: return "__match_all_sync";
    default: return "__reduce*_sync";
  }
}

// Try to complete the warp operations of warp w. Returns number of lanes released, -1 on error.
static int resolve_warp(int w, int n) {
  Slot* S = rt.slots;
  int base = w * 32;
  int nl = n - base < 32 ? n - base : 32;
  uint32_t exist = nl == 32 ? 0xffffffffu : ((1u << nl) - 1u);
  int released = 0;
  uint32_t handled = 0;
  for (int l = 0; l < nl; ++l) {
    Slot& L = S[base + l];
    if (L.state != AT_WARP || (handled >> l & 1u)) continue;
    uint32_t m = L.mask;
    if (!(m >> l & 1u)) {
      fail("thread (%u,%u,%u) called %s with mask 0x%08x that does not include its own lane %d",
           L.tid.x, L.tid.y, L.tid.z, op_name(L.op), m, l);
      return -1;
    }
    uint32_t group = m & exist;
    bool ok = true;
    for (int g = 0; g < nl; ++g) {
      if (!(group >> g & 1u)) continue;
      Slot& G = S[base + g];
      if (G.state == DONE) {
        fail("thread (%u,%u,%u) called %s with mask 0x%08x but lane %d of its warp has already exited "
             "(divergent warp synchronisation)",
             L.tid.x, L.tid.y, L.tid.z, op_name(L.op), m, g);
        return -1;
      }
      if (G.state != AT_WARP || G.mask != m || G.op != L.op) { ok = false; break; }
    }
    if (!ok) continue;
    handled |= group;
    uint32_t ballot = 0;
    for (int g = 0; g < nl; ++g)
      if ((group >> g & 1u) && S[base + g].pred) ballot |= 1u << g;
    switch (L.op) {
      case OP_SYNCWARP: break;
      case OP_SHFL:
        for (int g = 0; g < nl; ++g) {
          if (!(group >> g & 1u)) continue;
          Slot& G = S[base + g];
          int src = G.src;
          G.res = src < 0 ? G.val : ((group >> src & 1u) ? S[base + src].val : kPoison);
        }
        break;
      case OP_BALLOT:
        for (int g = 0; g < nl; ++g)
          if (group >> g & 1u) S[base + g].res = ballot;
        break;
      case OP_MATCH_ANY:
        for (int g = 0; g < nl; ++g) {
          if (!(group >> g & 1u)) continue;
          uint32_t mm = 0;
          for (int h = 0; h < nl; ++h)
            if ((group >> h & 1u) && S[base + h].val == S[base + g].val) mm |= 1u << h;
          S[base + g].res = mm;
        }
        break;
      case OP_MATCH_ALL: {
        bool same = true;
        for (int g = 0; g < nl; ++g)
          if ((group >> g & 1u) && S[base + g].val != L.val) same = false;
        for (int g = 0; g < nl; ++g)
          if (group >> g & 1u) S[base + g].res = same ? (uint64_t)group : 0;
        break;
      }
      default: {
        uint32_t acc = 0;
        bool first = true;
        for (int g = 0; g < nl; ++g) {
          if (!(group >> g & 1u)) continue;
          uint32_t v = (uint32_t)S[base + g].val;
          if (first) { acc = v; first = false; continue; }
          switch (L.op) {
            case OP_RED_ADD: acc = acc + v; break;
            case OP_RED_MIN_S: acc = (int32_t)v < (int32_t)acc ? v : acc; break;
            case OP_RED_MAX_S: acc = (int32_t)v > (int32_t)acc ? v : acc; break;
            case OP_RED_MIN_U: acc = v < acc ? v : acc; break;
            case OP_RED_MAX_U: acc = v > acc ? v : acc; break;
            case OP_RED_AND: acc = acc & v; break;
            case OP_RED_OR: acc = acc | v; break;
            case OP_RED_XOR: acc = acc ^ v; break;
          }
        }
        for (int g = 0; g < nl; ++g)
          if (group >> g & 1u) S[base + g].res = acc;
      }
    }
    for (int g = 0; g < nl; ++g)
      if (group >> g & 1u) { S[base + g].state = RUNNABLE; ++released; }
  }
  return released;
}

static const char* state_name(int st) {
  switch (st) {
    case DONE: return "exited";
    case AT_SYNC: return "waiting at __syncthreads";
    case AT_WARP: return "waiting at ";
    default: return "runnable";
  }
}

// Run one block to completion. Returns 0 or -1 (error message in rt_err).
static int run_block(int n, int mode, Rng& rng) {
  Slot* S = rt.slots;
  int* order = rt.order;
  for (int i = 0; i < n; ++i) {
    S[i].state = RUNNABLE;
    S[i].fiber = nullptr;
  }
  for (;;) {
    // one pass over the runnable threads, in schedule order
    int k = 0;
    if (mode == 1) {
      for (int i = n - 1; i >= 0; --i)
        if (S[i].state == RUNNABLE) order[k++] = i;
    } else {
      for (int i = 0; i < n; ++i)
        if (S[i].state == RUNNABLE) order[k++] = i;
      if (mode == 2)
        for (int i = k - 1; i > 0; --i) {
          int j = (int)(rng.next() % (uint64_t)(i + 1));
          int t = order[i]; order[i] = order[j]; order[j] = t;
        }
    }
    rt.npass = k;
    rt.pos = 0;
    if (k) swap_to(&rt.sched_sp, target_of(next_item()));
    if (rt.failed) return -1;
    int ndone = 0, nsync = 0, nwarp = 0;
    for (int i = 0; i < n; ++i) {
      int st = S[i].state;
      ndone += st == DONE;
      nsync += st == AT_SYNC;
      nwarp += st == AT_WARP;
    }
    if (ndone == n) return 0;
    if (nwarp) {
      int released = 0;
      int nw = (n + 31) / 32;
      for (int w = 0; w < nw; ++w) {
        int r = resolve_warp(w, n);
        if (r < 0) return -1;
        released += r;
      }
      if (released) continue;
    }
    if (nwarp == 0 && nsync > 0) {
      if (ndone > 0) {
        int a = -1, b = -1;
        for (int i = 0; i < n; ++i) {
          if (S[i].state == DONE && a < 0) a = i;
          if (S[i].state == AT_SYNC && b < 0) b = i;
        }
        fail("divergent __syncthreads (deadlock): %d thread(s) exited, e.g. thread (%u,%u,%u), while %d wait "
             "at __syncthreads, e.g. thread (%u,%u,%u)",
             ndone, S[a].tid.x, S[a].tid.y, S[a].tid.z, nsync, S[b].tid.x, S[b].tid.y, S[b].tid.z);
        return -1;
      }
      int kind = S[0].op, cnt = 0;
      for (int i = 0; i < n; ++i) {
        if (S[i].op != kind) {
          fail("threads wait at different kinds of block barrier (__syncthreads vs __syncthreads_count/and/or)");
          return -1;
        }
        cnt += S[i].pred != 0;
      }
      rt.sync_result = kind == SYNC_COUNT ? cnt : kind == SYNC_AND ? (cnt == n) : kind == SYNC_OR ? (cnt > 0) : 0;
      for (int i = 0; i < n; ++i) S[i].state = RUNNABLE;
      continue;
    }
    // no progress possible
    char buf[640];
    int len = 0;
    for (int i = 0, shown = 0; i < n && shown < 4; ++i) {
      if (S[i].state == DONE) continue;
      ++shown;
      int k2 = snprintf(buf + len, sizeof buf - len, "%sthread (%u,%u,%u) %s%s (mask 0x%08x)", shown > 1 ? "; " : "",
                        S[i].tid.x, S[i].tid.y, S[i].tid.z, state_name(S[i].state),
                        S[i].state == AT_WARP ? op_name(S[i].op) : "", S[i].state == AT_WARP ? S[i].mask : 0u);
      if (k2 > 0 && len + k2 < (int)sizeof buf) len += k2;
    }
    buf[len] = 0;
    fail("deadlock: %d exited, %d at __syncthreads, %d at warp operations that can never complete "
         "(divergent barrier or mismatched masks): %s",
         ndone, nsync, nwarp, buf);
    return -1;
  }
}

template <class... P>
struct Call {
  void (*f)(P...);
  std::tuple<P...> args;
};
template <class... P>
static void thunk(void* c) {
  auto* k = static_cast<Call<P...>*>(c);
  std::apply(k->f, k->args);
}

template <class T>
static inline T load_arg(const unsigned char* p) {
  static_assert(std::is_trivially_copyable_v<T>, "kernel parameters must be trivially copyable");
  T t;
  std::memcpy((void*)&t, p, sizeof(T));
  return t;
}
static constexpr size_t slot_size(size_t s) { return (s + 7) & ~(size_t)7; }

template <class... P, size_t... I>
static std::tuple<P...> unpack(const unsigned char* a, const size_t* offs, std::index_sequence<I...>) {
  return std::tuple<P...>{load_arg<P>(a + offs[I])...};
}

template <class T>
static constexpr int param_kind() {
  if constexpr (std::is_pointer_v<T>) return 'p';
  else if constexpr (std::is_same_v<T, bool>) return 'b';
  else if constexpr (std::is_floating_point_v<T>) return 'f';
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) return 'i';
  else if constexpr (std::is_integral_v<T>) return 'u';
  else return 'o';
}

template <class... P>
static int param_info(void (*)(P...), int* out, int max) {
  const int sizes[] = {(int)sizeof(P)..., 0};
  const int kinds[] = {param_kind<P>()..., 0};
  int n = (int)sizeof...(P);
  for (int i = 0; i < n && 2 * i + 1 < max; ++i) {
    out[2 * i] = sizes[i];
    out[2 * i + 1] = kinds[i];
  }
  return n;
}

// Launch buffer written by Python: header then one 8-byte-aligned slot per parameter.
struct LaunchHeader {
  uint32_t grid[3], block[3], smem;
  int32_t mode;
  uint64_t seed;
  uint64_t objmask;   // bit i: slot i holds the address of a numpy array object (read its data pointer)
  uint64_t data_off;  // offset of the data pointer inside a numpy array object
};

template <class... P>
static int launch(const char* kname, void (*f)(P...), const unsigned char* buf, void (*poison)(size_t)) {
  LaunchHeader h;
  std::memcpy(&h, buf, sizeof h);
  rt.failed = 0;
  rt_err[0] = 0;
  rt.kname = kname;
  const unsigned gx = h.grid[0], gy = h.grid[1], gz = h.grid[2];
  const unsigned bx = h.block[0], by = h.block[1], bz = h.block[2];
  const int mode = h.mode;
  int n = (int)(bx * by * bz);
  if (n <= 0 || n > kMaxThreads) {
    fail("invalid block size %d", n);
    return -1;
  }
  if (!ensure_runtime()) {
    fail("cannot allocate fiber stacks");
    return -1;
  }
  constexpr size_t np = sizeof...(P);
  size_t offs[np + 1] = {};
  {
    constexpr size_t sizes[] = {slot_size(sizeof(P))..., 0};
    for (size_t i = 0; i < np; ++i) offs[i + 1] = offs[i] + sizes[i];
  }
  unsigned char args[offs[np] + 8];
  std::memcpy(args, buf + sizeof h, offs[np]);
  for (size_t i = 0; i < np && i < 64; ++i) {
    if (h.objmask >> i & 1u) {
      const unsigned char* obj;
      std::memcpy(&obj, args + offs[i], sizeof obj);
      std::memcpy(args + offs[i], obj + h.data_off, sizeof(void*));
    }
  }
  Call<P...> call{f, unpack<P...>(args, offs, std::index_sequence_for<P...>{})};
  rt.thunk = &thunk<P...>;
  rt.ctx = &call;
  blockDim = dim3(bx, by, bz);
  gridDim = dim3(gx, gy, gz);
  if (bx != rt.tid_dims[0] || by != rt.tid_dims[1] || bz != rt.tid_dims[2]) {
    for (int i = 0; i < n; ++i) {
      rt.slots[i].tid = uint3{(unsigned)i % bx, ((unsigned)i / bx) % by, (unsigned)i / (bx * by)};
      rt.slots[i].lin = i;
    }
    rt.tid_dims[0] = bx, rt.tid_dims[1] = by, rt.tid_dims[2] = bz;
  }
  uint64_t nblocks = (uint64_t)gx * gy * gz;
  // random block order: affine permutation b -> (a*b + c) mod nblocks with gcd(a, nblocks) = 1
  uint64_t pa = 1, pc = 0;
  if (mode == 2 && nblocks > 1) {
    uint64_t r = mix64(h.seed ^ 0x5bd1e995ull);
    pc = r % nblocks;
    pa = mix64(r) % nblocks;
    auto gcd = [](uint64_t a, uint64_t b) { while (b) { uint64_t t = a % b; a = b; b = t; } return a; };
    while (pa == 0 || gcd(pa, nblocks) != 1) pa = (pa + 1) % nblocks;
  }
  int rc = 0;
  for (uint64_t k = 0; k < nblocks; ++k) {
    uint64_t b = mode == 0 ? k : mode == 1 ? nblocks - 1 - k
                                           : (uint64_t)(((unsigned __int128)pa * k + pc) % nblocks);
    blockIdx = uint3{(unsigned)(b % gx), (unsigned)((b / gx) % gy), (unsigned)(b / ((uint64_t)gx * gy))};
    if (poison) poison(h.smem);
    Rng rng{mix64(h.seed * 0x9E3779B97F4A7C15ull + b) | 1};
    if (run_block(n, mode, rng) != 0) { rc = -1; break; }
  }
  if (rc != 0 && !rt.failed) fail("kernel trapped");
  rt.cur = nullptr;
  fflush(stdout);  // device printf output appears before Python continues
  return rc;
}

}  // namespace cudasim

CUDASIM_EXPORT const char* __cudasim_last_error() { return cudasim::rt_err; }
CUDASIM_EXPORT void* __cudasim_alloc_stacks() { return cudasim::alloc_stacks(); }
CUDASIM_EXPORT void __cudasim_set_stacks(void* p) { cudasim::rt.stacks = (unsigned char*)p; }

// assert() inside a kernel: report like a device-side assertion and abort the launch.
extern "C" __attribute__((visibility("hidden"), noreturn)) void __assert_fail(
    const char* expr, const char* file, unsigned int line, const char* func) noexcept {
  if (cudasim::rt.cur) {
    cudasim::fail("thread (%u,%u,%u): device-side assertion `%s' failed at %s:%u in %s", threadIdx.x, threadIdx.y,
                  threadIdx.z, expr, file, line, func);
    cudasim::trap_here();
  }
  fprintf(stderr, "%s:%u: %s: Assertion `%s' failed.\n", file, line, func, expr);
  abort();
}

// ------------------------------------------------------------------ block & warp primitives
static inline void __syncthreads() { cudasim::block_sync(cudasim::SYNC_PLAIN, 0); }
static inline int __syncthreads_count(int p) { return cudasim::block_sync(cudasim::SYNC_COUNT, p != 0); }
static inline int __syncthreads_and(int p) { return cudasim::block_sync(cudasim::SYNC_AND, p != 0); }
static inline int __syncthreads_or(int p) { return cudasim::block_sync(cudasim::SYNC_OR, p != 0); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) {
  cudasim::warp_op(cudasim::OP_SYNCWARP, mask, 0, -1, 0);
}
[[noreturn]] static inline void __trap() {
  cudasim::fail("thread (%u,%u,%u) executed __trap()", threadIdx.x, threadIdx.y, threadIdx.z);
  cudasim::trap_here();
}
static inline void __brkpt() { __trap(); }
static inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
static inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
static inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
static inline void __nanosleep(unsigned) {}
static inline long long clock64() { return (long long)__builtin_ia32_rdtsc(); }

static inline unsigned __activemask() {
  // lanes of this warp that exist and have not exited
  int n = (int)(blockDim.x * blockDim.y * blockDim.z);
  int lin = (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
  int base = lin & ~31;
  unsigned m = 0;
  for (int l = 0; l < 32 && base + l < n; ++l)
    if (cudasim::rt.slots[base + l].state != cudasim::DONE) m |= 1u << l;
  return m;
}
static inline unsigned __ballot_sync(unsigned mask, int pred) {
  return (unsigned)cudasim::warp_op(cudasim::OP_BALLOT, mask, 0, -1, pred != 0);
}
static inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
static inline int __all_sync(unsigned mask, int pred) {
  unsigned m = mask;
  int n = (int)(blockDim.x * blockDim.y * blockDim.z);
  int lin = (int)(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
  int base = lin & ~31;
  if (n - base < 32) m &= (1u << (n - base)) - 1u;
  return __ballot_sync(mask, pred) == m;
}
template <class T>
static inline uint64_t cudasim_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp shuffle of a type larger than 8 bytes");
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  return u;
}
template <class T>
static inline T cudasim_from_bits(uint64_t u) {
  T v;
  std::memcpy((void*)&v, &u, sizeof(T));
  return v;
}
template <class T>
static inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize) {
  int lane = cudasim::lane_id();
  int src = (lane & ~(width - 1)) + (srcLane & (width - 1));
  return cudasim_from_bits<T>(cudasim::warp_op(cudasim::OP_SHFL, mask, cudasim_bits(var), src, 0));
}
template <class T>
static inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  int lane = cudasim::lane_id();
  int src = ((lane & (width - 1)) - (int)delta) < 0 ? -1 : lane - (int)delta;
  return cudasim_from_bits<T>(cudasim::warp_op(cudasim::OP_SHFL, mask, cudasim_bits(var), src, 0));
}
template <class T>
static inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  int lane = cudasim::lane_id();
  int src = ((lane & (width - 1)) + (int)delta) >= width ? -1 : lane + (int)delta;
  return cudasim_from_bits<T>(cudasim::warp_op(cudasim::OP_SHFL, mask, cudasim_bits(var), src, 0));
}
template <class T>
static inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize) {
  int lane = cudasim::lane_id();
  int src = lane ^ laneMask;
  int seg_end = (lane & ~(width - 1)) + width;
  if (src >= seg_end || src >= 32) src = -1;
  return cudasim_from_bits<T>(cudasim::warp_op(cudasim::OP_SHFL, mask, cudasim_bits(var), src, 0));
}
template <class T>
static inline unsigned __match_any_sync(unsigned mask, T value) {
  return (unsigned)cudasim::warp_op(cudasim::OP_MATCH_ANY, mask, cudasim_bits(value), -1, 0);
}
template <class T>
static inline unsigned __match_all_sync(unsigned mask, T value, int* pred) {
  unsigned r = (unsigned)cudasim::warp_op(cudasim::OP_MATCH_ALL, mask, cudasim_bits(value), -1, 0);
  *pred = r != 0;
  return r;
}
static inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  return (unsigned)cudasim::warp_op(cudasim::OP_RED_ADD, mask, v, -1, 0);
}
static inline int __reduce_add_sync(unsigned mask, int v) {
  return (int)(unsigned)cudasim::warp_op(cudasim::OP_RED_ADD, mask, (unsigned)v, -1, 0);
}
static inline unsigned __reduce_min_sync(unsigned mask, unsigned v) {
  return (unsigned)cudasim::warp_op(cudasim::OP_RED_MIN_U, mask, v, -1, 0);
}
static inline int __reduce_min_sync(unsigned mask, int v) {
  return (int)(unsigned)cudasim::warp_op(cudasim::OP_RED_MIN_S, mask, (unsigned)v, -1, 0);
}
static inline unsigned __reduce_max_sync(unsigned mask, unsigned v) {
  return (unsigned)cudasim::warp_op(cudasim::OP_RED_MAX_U, mask, v, -1, 0);
}
static inline int __reduce_max_sync(unsigned mask, int v) {
  return (int)(unsigned)cudasim::warp_op(cudasim::OP_RED_MAX_S, mask, (unsigned)v, -1, 0);
}
static inline unsigned __reduce_and_sync(unsigned mask, unsigned v) {
  return (unsigned)cudasim::warp_op(cudasim::OP_RED_AND, mask, v, -1, 0);
}
static inline unsigned __reduce_or_sync(unsigned mask, unsigned v) {
  return (unsigned)cudasim::warp_op(cudasim::OP_RED_OR, mask, v, -1, 0);
}
static inline unsigned __reduce_xor_sync(unsigned mask, unsigned v) {
  return (unsigned)cudasim::warp_op(cudasim::OP_RED_XOR, mask, v, -1, 0);
}

// ------------------------------------------------------------------ atomics (CUDA's overload set)
namespace cudasim {
template <class T>
static inline std::atomic_ref<T> aref(T* p) { return std::atomic_ref<T>(*p); }
template <class T, class F>
static inline T cas_loop(T* p, F f) {
  auto a = aref(p);
  T old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, f(old), std::memory_order_relaxed)) {}
  return old;
}
}  // namespace cudasim

#define CUDASIM_ATOMIC_SCOPES(RET, NAME, ARGS, CALL) \
  static inline RET NAME ARGS CALL                   \
  static inline RET NAME##_block ARGS CALL           \
  static inline RET NAME##_system ARGS CALL

#define CUDASIM_ATOMIC_ADD(T)                                                   \
  CUDASIM_ATOMIC_SCOPES(T, atomicAdd, (T* p, T v),                              \
                        { return cudasim::aref(p).fetch_add(v, std::memory_order_relaxed); })
CUDASIM_ATOMIC_ADD(int)
CUDASIM_ATOMIC_ADD(unsigned int)
CUDASIM_ATOMIC_ADD(unsigned long long int)
CUDASIM_ATOMIC_ADD(float)
CUDASIM_ATOMIC_ADD(double)
#undef CUDASIM_ATOMIC_ADD

#define CUDASIM_ATOMIC_SUB(T)                                                   \
  CUDASIM_ATOMIC_SCOPES(T, atomicSub, (T* p, T v),                              \
                        { return cudasim::aref(p).fetch_sub(v, std::memory_order_relaxed); })
CUDASIM_ATOMIC_SUB(int)
CUDASIM_ATOMIC_SUB(unsigned int)
#undef CUDASIM_ATOMIC_SUB

#define CUDASIM_ATOMIC_EXCH(T)                                                  \
  CUDASIM_ATOMIC_SCOPES(T, atomicExch, (T* p, T v),                             \
                        { return cudasim::aref(p).exchange(v, std::memory_order_relaxed); })
CUDASIM_ATOMIC_EXCH(int)
CUDASIM_ATOMIC_EXCH(unsigned int)
CUDASIM_ATOMIC_EXCH(unsigned long long int)
CUDASIM_ATOMIC_EXCH(float)
#undef CUDASIM_ATOMIC_EXCH

#define CUDASIM_ATOMIC_MINMAX(T)                                                                        \
  CUDASIM_ATOMIC_SCOPES(T, atomicMin, (T* p, T v),                                                      \
                        { return cudasim::cas_loop(p, [v](T o) { return v < o ? v : o; }); })           \
  CUDASIM_ATOMIC_SCOPES(T, atomicMax, (T* p, T v),                                                      \
                        { return cudasim::cas_loop(p, [v](T o) { return v > o ? v : o; }); })
CUDASIM_ATOMIC_MINMAX(int)
CUDASIM_ATOMIC_MINMAX(unsigned int)
CUDASIM_ATOMIC_MINMAX(long long int)
CUDASIM_ATOMIC_MINMAX(unsigned long long int)
#undef CUDASIM_ATOMIC_MINMAX

#define CUDASIM_ATOMIC_BITS(T)                                                                          \
  CUDASIM_ATOMIC_SCOPES(T, atomicAnd, (T* p, T v),                                                      \
                        { return cudasim::aref(p).fetch_and(v, std::memory_order_relaxed); })           \
  CUDASIM_ATOMIC_SCOPES(T, atomicOr, (T* p, T v),                                                       \
                        { return cudasim::aref(p).fetch_or(v, std::memory_order_relaxed); })            \
  CUDASIM_ATOMIC_SCOPES(T, atomicXor, (T* p, T v),                                                      \
                        { return cudasim::aref(p).fetch_xor(v, std::memory_order_relaxed); })
CUDASIM_ATOMIC_BITS(int)
CUDASIM_ATOMIC_BITS(unsigned int)
CUDASIM_ATOMIC_BITS(unsigned long long int)
#undef CUDASIM_ATOMIC_BITS

#define CUDASIM_ATOMIC_CAS(T)                                                                           \
  CUDASIM_ATOMIC_SCOPES(T, atomicCAS, (T* p, T cmp, T v), {                                             \
    cudasim::aref(p).compare_exchange_strong(cmp, v, std::memory_order_relaxed);                        \
    return cmp;                                                                                         \
  })
CUDASIM_ATOMIC_CAS(int)
CUDASIM_ATOMIC_CAS(unsigned int)
CUDASIM_ATOMIC_CAS(unsigned long long int)
CUDASIM_ATOMIC_CAS(unsigned short int)
#undef CUDASIM_ATOMIC_CAS

CUDASIM_ATOMIC_SCOPES(unsigned int, atomicInc, (unsigned int* p, unsigned int v),
                      { return cudasim::cas_loop(p, [v](unsigned o) { return o >= v ? 0u : o + 1u; }); })
CUDASIM_ATOMIC_SCOPES(unsigned int, atomicDec, (unsigned int* p, unsigned int v), {
  return cudasim::cas_loop(p, [v](unsigned o) { return (o == 0u || o > v) ? v : o - 1u; });
})

// ------------------------------------------------------------------ math
#include "cuda_sim_math.h"

#endif  // CUDASIM_DISCOVER
#endif  // CORELIB_CUDA_SIM_H
