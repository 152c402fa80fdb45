// softmax / log_softmax over one dim, and their backwards from the saved output. A row (every
// index of the other dims) is handled by the blockDim.x threads of one block row: a max and a
// sum reduction (row_reduce: warp shuffles, then shared memory), then the elementwise write.
// float16 computes in float. meta: [row layout, dim layout] of the operands (x, y) or
// (g, out, y), as row_offsets / elem_offsets read it; any strides.
#include "reduction_block.cuh"

// y = exp(x - max) / sum(exp(x - max)), or (x - max) - log(sum) for log_softmax
template <class T, bool LOG>
__device__ __forceinline__ void softmax_rows(const T* __restrict__ x, T* __restrict__ y,
                                             const i64* __restrict__ meta, int nk, int nr,
                                             i64 rows, i64 len) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    i64 row[2] = {0, 0}, off[2];
    if (active) row_offsets<2>(o, nk, meta, row);
    const i64 n = active ? len : 0;
    A m = Limits<A>::lowest();
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<2>(r, nk, nr, meta, row, off);
      m = max_(m, load(x, off[0]));
    }
    m = row_reduce(MaxCombine(), m);
    A s = A(0);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<2>(r, nk, nr, meta, row, off);
      s += exp(load(x, off[0]) - m);
    }
    s = row_reduce(AddCombine(), s);
    const A log_s = LOG ? log(s) : A(0);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<2>(r, nk, nr, meta, row, off);
      const A v = load(x, off[0]) - m;
      y[off[1]] = convert<T>(LOG ? v - log_s : exp(v) / s);
    }
  }
}

// softmax: y = out * (g - sum(g * out)); log_softmax: y = g - exp(out) * sum(g)
template <class T, bool LOG>
__device__ __forceinline__ void softmax_backward_rows(const T* __restrict__ g,
                                                      const T* __restrict__ out,
                                                      T* __restrict__ y,
                                                      const i64* __restrict__ meta, int nk,
                                                      int nr, i64 rows, i64 len) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    i64 row[3] = {0, 0, 0}, off[3];
    if (active) row_offsets<3>(o, nk, meta, row);
    const i64 n = active ? len : 0;
    A s = A(0);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<3>(r, nk, nr, meta, row, off);
      s += LOG ? load(g, off[0]) : load(g, off[0]) * load(out, off[1]);
    }
    s = row_reduce(AddCombine(), s);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      elem_offsets<3>(r, nk, nr, meta, row, off);
      const A gv = load(g, off[0]), ov = load(out, off[1]);
      y[off[2]] = convert<T>(LOG ? gv - exp(ov) * s : ov * (gv - s));
    }
  }
}

#define SOFTMAX_KERNELS(SUFFIX, T)                                                             \
  extern "C" __global__ void softmax_##SUFFIX(const T* x, T* y, const i64* meta, int nk,       \
                                              int nr, i64 rows, i64 len) {                     \
    softmax_rows<T, false>(x, y, meta, nk, nr, rows, len);                                     \
  }                                                                                            \
  extern "C" __global__ void log_softmax_##SUFFIX(const T* x, T* y, const i64* meta, int nk,   \
                                                  int nr, i64 rows, i64 len) {                 \
    softmax_rows<T, true>(x, y, meta, nk, nr, rows, len);                                      \
  }                                                                                            \
  extern "C" __global__ void softmax_backward_data_##SUFFIX(                                   \
      const T* g, const T* out, T* y, const i64* meta, int nk, int nr, i64 rows, i64 len) {    \
    softmax_backward_rows<T, false>(g, out, y, meta, nk, nr, rows, len);                       \
  }                                                                                            \
  extern "C" __global__ void log_softmax_backward_data_##SUFFIX(                               \
      const T* g, const T* out, T* y, const i64* meta, int nk, int nr, i64 rows, i64 len) {    \
    softmax_backward_rows<T, true>(g, out, y, meta, nk, nr, rows, len);                        \
  }
