// corelib-cpu native kernels: direct 2-D convolution at stride 1 and its weight gradient.
//
// Compiled on first use by corelib_cpu/native/__init__.py (g++ -O3 -march=native) and called
// through ctypes. Why compiled code: a convolution as columns + GEMM copies every input value
// KH*KW times into the columns and transposes the result back; for the few-channel layers of
// small CNNs those copies cost as much as the GEMM itself. A direct kernel reads the padded
// input in place: each output row segment (two SIMD vectors wide) accumulates, in registers,
// weight x input-row products over every (channel, ky, kx), for a block of output channels.
//
// Layouts (contiguous within an image; images `*_img` elements apart, so a group of channels
// is a pointer offset):
//   xp  (N, C, PH, PW)  zero-padded input, readable (KW-1)*dw + 2 vectors past its end
//   w   (O, C, KH, KW)
//   out (N, O, OH, OW)  OH = PH - dh*(KH-1), OW = PW - dw*(KW-1)
// The forward kernel also runs "flat" (OH = 1, OW = OH*PW): each output plane computed as one
// long row on a grid as wide as the padded input (narrow images keep whole vectors busy; the
// caller drops the extra columns).
// `threads`: OS threads to split the work over (images in the forward, output-channel blocks
// in the weight gradient). Exported functions return 0, -1 for arguments without a compiled
// variant, -2 when out of memory.
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

typedef long idx;

// f(begin, end) over [0, n) split into `threads` contiguous parts, one OS thread each (the
// calling thread takes the first); threads are made per call, so a fork never inherits a pool
template <typename F>
static void parallel(idx n, idx threads, F f) {
    threads = threads < n ? threads : n;
    if (threads <= 1) {
        f(0, n);
        return;
    }
    std::vector<std::thread> pool;
    for (idx t = 1; t < threads; ++t) pool.emplace_back(f, n * t / threads, n * (t + 1) / threads);
    f(0, n / threads);
    for (auto& th : pool) th.join();
}

template <typename T> struct Simd;
template <> struct Simd<float> {
    typedef float V __attribute__((vector_size(32)));
    typedef int M __attribute__((vector_size(32)));
};
template <> struct Simd<double> {
    typedef double V __attribute__((vector_size(32)));
    typedef long long M __attribute__((vector_size(32)));
};

template <typename T> struct Ops {
    typedef typename Simd<T>::V V;
    static const int L = sizeof(V) / sizeof(T);
    static inline V load(const T* p) { V v; std::memcpy(&v, p, sizeof v); return v; }
    static inline void store(T* p, V v) { std::memcpy(p, &v, sizeof v); }

    typedef typename Simd<T>::M M;
    static inline V splat(T s) { return V{} + s; }
    static inline M first(idx n) {   // lanes [0, n) set
        M m;
        for (int i = 0; i < L; ++i) m[i] = i < n ? -1 : 0;
        return m;
    }
    static inline V keep(V v, M m) { return (V)((M)v & m); }   // other lanes +0.0
    static inline T sum(V v) {
        T s = 0;
        for (int i = 0; i < L; ++i) s += v[i];
        return s;
    }
};

// out[n, o0:o0+OB] for one image: two vectors of outputs per (channel, row) in registers
// out[n, o0:o0+OB] of one image. The (c, ky, kx) taps are one flat loop: off[k] is tap k's
// offset in the padded image, wp[k * OB + j] its weight for output channel o0 + j.
template <typename T, int OB>
static void forward_block(const T* xn, const T* wp, const T* b, T* on, idx o0, idx K,
                          const idx* off, idx PW, idx OH, idx OW) {
    typedef Ops<T> S;
    typedef typename S::V V;
    const int L = S::L, XB = 2 * L;
    const idx plane = OH * OW;
    for (idx y = 0; y < OH; ++y)
        for (idx x0 = 0; x0 < OW; x0 += XB) {
            V acc[OB][2];
            for (int j = 0; j < OB; ++j)
                acc[j][0] = acc[j][1] = S::splat(b ? b[o0 + j] : T(0));
            const T* base = xn + y * PW + x0;
            for (idx k = 0; k < K; ++k) {
                const V r0 = S::load(base + off[k]), r1 = S::load(base + off[k] + L);
                const T* ws = wp + k * OB;
                for (int j = 0; j < OB; ++j) {
                    acc[j][0] += ws[j] * r0;
                    acc[j][1] += ws[j] * r1;
                }
            }
            const idx n = OW - x0 < XB ? OW - x0 : XB;
            for (int j = 0; j < OB; ++j) {
                T* dst = on + (o0 + j) * plane + y * OW + x0;
                if (n == XB) {
                    S::store(dst, acc[j][0]);
                    S::store(dst + L, acc[j][1]);
                } else {
                    T tmp[2 * L];
                    S::store(tmp, acc[j][0]);
                    S::store(tmp + L, acc[j][1]);
                    std::memcpy(dst, tmp, n * sizeof(T));
                }
            }
        }
}

// output channels in blocks of 6, then 2, then 1: wp holds each block's weights tap-major
template <typename T>
static int forward(const T* xp, const T* w, const T* b, T* out, idx N, idx C, idx PH, idx PW,
                   idx O, idx KH, idx KW, idx dh, idx dw, idx OH, idx OW, idx x_img,
                   idx out_img, idx threads) {
    const idx K = C * KH * KW;
    idx* off = static_cast<idx*>(std::malloc(K * sizeof(idx)));
    T* wp = static_cast<T*>(std::malloc(O * K * sizeof(T)));
    if (!off || !wp) {
        std::free(off);
        std::free(wp);
        return -2;
    }
    for (idx c = 0, k = 0; c < C; ++c)
        for (idx ky = 0; ky < KH; ++ky)
            for (idx kx = 0; kx < KW; ++kx, ++k) off[k] = (c * PH + ky * dh) * PW + kx * dw;
    idx blocks[3][2] = {{6, 0}, {2, 0}, {1, 0}};   // (size, first channel past the blocks)
    for (idx o0 = 0, i = 0; i < 3; ++i) {
        const idx ob = blocks[i][0];
        for (; o0 + ob <= O; o0 += ob)
            for (idx k = 0; k < K; ++k)
                for (idx j = 0; j < ob; ++j) wp[o0 * K + k * ob + j] = w[(o0 + j) * K + k];
        blocks[i][1] = o0;
    }
    parallel(N, threads, [&](idx n0, idx n1) {
        for (idx n = n0; n < n1; ++n) {
            const T* xn = xp + n * x_img;
            T* on = out + n * out_img;
            idx o0 = 0;
            for (; o0 < blocks[0][1]; o0 += 6)
                forward_block<T, 6>(xn, wp + o0 * K, b, on, o0, K, off, PW, OH, OW);
            for (; o0 < blocks[1][1]; o0 += 2)
                forward_block<T, 2>(xn, wp + o0 * K, b, on, o0, K, off, PW, OH, OW);
            for (; o0 < O; ++o0)
                forward_block<T, 1>(xn, wp + o0 * K, b, on, o0, K, off, PW, OH, OW);
        }
    });
    std::free(off);
    std::free(wp);
    return 0;
}

// gw[o0:o0+OB, c, ky, :] += sum over (n, y, x) of g[n, o, y, x] * xp[n, c, y+ky*dh, x+kx*dw]:
// OB x KW vector accumulators over a chunk of images, summed across lanes once per chunk.
// Rows of g are GW wide, a multiple of the vector width, zero past the output width OW; the
// input lanes past OW of a row's last vector are zeroed too (they hold the next row's values,
// and 0 * inf would be NaN), so every product outside the output is exactly 0.
// NV: vectors per row when known at compile time (1 or 2: the row loop unrolled, measured
// faster for short rows; longer rows loop), else 0.
template <typename T, int OB, int KW, int NV>
static void weight_block(const T* xp, const T* g, T* gw, idx o0, idx N, idx C, idx PH, idx PW,
                         idx KH, idx dh, idx dw, idx OH, idx OW, idx GW, idx x_img,
                         idx g_img) {
    typedef Ops<T> S;
    typedef typename S::V V;
    const int L = S::L;
    const idx plane = OH * GW, wo = C * KH * KW, nv = NV ? NV : GW / L;
    const bool masked = OW % L != 0;
    const typename S::M tail = S::first(masked ? OW % L : L);
    // images in chunks whose g rows (OB planes each) stay in L1 while every (c, ky) reads them
    const idx fit = 16384 / (OB * plane * (idx)sizeof(T));
    const idx chunk = fit > 1 ? fit : 1;
    for (idx n0 = 0; n0 < N; n0 += chunk) {
        const idx n1 = n0 + chunk < N ? n0 + chunk : N;
        for (idx c = 0; c < C; ++c)
            for (idx ky = 0; ky < KH; ++ky) {
                V acc[OB][KW];
                for (int j = 0; j < OB; ++j)
                    for (int k = 0; k < KW; ++k) acc[j][k] = V{};
                for (idx n = n0; n < n1; ++n)
                    for (idx y = 0; y < OH; ++y) {
                        const T* row = xp + n * x_img + (c * PH + y + ky * dh) * PW;
                        const T* grow = g + n * g_img + o0 * plane + y * GW;
                        for (idx v = 0; v < nv; ++v) {
                            const idx x = v * L;
                            V gv[OB];
                            for (int j = 0; j < OB; ++j) gv[j] = S::load(grow + j * plane + x);
                            const bool last = masked && v == nv - 1;
                            for (int k = 0; k < KW; ++k) {
                                V r = S::load(row + x + k * dw);
                                if (last) r = S::keep(r, tail);
                                for (int j = 0; j < OB; ++j) acc[j][k] += gv[j] * r;
                            }
                        }
                    }
                for (int j = 0; j < OB; ++j)
                    for (int k = 0; k < KW; ++k)
                        gw[(o0 + j) * wo + (c * KH + ky) * KW + k] += S::sum(acc[j][k]);
            }
    }
}

template <typename T, int KW, int NV>
static void weight_rows(const T* xp, const T* g, T* gw, idx N, idx C, idx PH, idx PW, idx O,
                        idx KH, idx dh, idx dw, idx OH, idx OW, idx GW, idx x_img, idx g_img,
                        idx threads) {
    // blocks of OB channels, then single ones; OB * KW accumulators plus OB g vectors and one
    // input vector fit the 16 vector registers
    constexpr int OB = KW <= 3 ? 3 : 2;
    const idx full = O / OB, blocks = full + O % OB;
    parallel(blocks, threads, [&](idx b0, idx b1) {
        for (idx blk = b0; blk < b1; ++blk)
            if (blk < full)
                weight_block<T, OB, KW, NV>(xp, g, gw, OB * blk, N, C, PH, PW, KH, dh, dw, OH,
                                            OW, GW, x_img, g_img);
            else
                weight_block<T, 1, KW, NV>(xp, g, gw, OB * full + blk - full, N, C, PH, PW, KH,
                                           dh, dw, OH, OW, GW, x_img, g_img);
    });
}

template <typename T, int KW>
static void weight_blocks(const T* xp, const T* g, T* gw, idx N, idx C, idx PH, idx PW, idx O,
                          idx KH, idx dh, idx dw, idx OH, idx OW, idx GW, idx x_img,
                          idx g_img, idx threads) {
    switch (GW / Ops<T>::L) {
        case 1: weight_rows<T, KW, 1>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        case 2: weight_rows<T, KW, 2>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        default: weight_rows<T, KW, 0>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads);
    }
}

template <typename T>
static int weight_grad(const T* xp, const T* g, T* gw, idx N, idx C, idx PH, idx PW, idx O,
                       idx KH, idx KW, idx dh, idx dw, idx OH, idx GW, idx x_img, idx g_img,
                       idx threads) {
    const idx OW = PW - dw * (KW - 1);
    if (GW % Ops<T>::L || GW < OW || GW >= OW + Ops<T>::L) return -1;
    switch (KW) {
        case 1: weight_blocks<T, 1>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        case 2: weight_blocks<T, 2>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        case 3: weight_blocks<T, 3>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        case 4: weight_blocks<T, 4>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        case 5: weight_blocks<T, 5>(xp, g, gw, N, C, PH, PW, O, KH, dh, dw, OH, OW, GW, x_img, g_img, threads); break;
        default: return -1;
    }
    return 0;
}

#define EXPORT(T, suffix)                                                                     \
    extern "C" int conv2d_forward_##suffix(const T* xp, const T* w, const T* b, T* out,       \
                                           idx N, idx C, idx PH, idx PW, idx O, idx KH,       \
                                           idx KW, idx dh, idx dw, idx OH, idx OW, idx x_img, \
                                           idx out_img, idx threads) {                        \
        return forward<T>(xp, w, b, out, N, C, PH, PW, O, KH, KW, dh, dw, OH, OW, x_img,      \
                          out_img, threads);                                                  \
    }                                                                                         \
    extern "C" int conv2d_weight_##suffix(const T* xp, const T* g, T* gw, idx N, idx C,       \
                                          idx PH, idx PW, idx O, idx KH, idx KW, idx dh,      \
                                          idx dw, idx OH, idx GW, idx x_img, idx g_img,       \
                                          idx threads) {                                      \
        return weight_grad<T>(xp, g, gw, N, C, PH, PW, O, KH, KW, dh, dw, OH, GW, x_img,      \
                              g_img, threads);                                                \
    }

EXPORT(float, f32)
EXPORT(double, f64)
