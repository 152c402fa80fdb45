// Scaled dot-product attention: the row kernels between the cuBLAS matmuls (ops/nn.py).
// Scores s = q @ k^T are a contiguous (rows, len) array, rows = batch * L, len = S; a row is
// handled by the blockDim.x threads of one block row (row_reduce: warp shuffles, then shared
// memory). float16 computes in float.
//
// attn_softmax: in place, s <- softmax(s * scale + mask, masked j > l when causal); a boolean
// mask keeps where true, a float mask adds; rows masked everywhere become 0 (PyTorch's safe
// softmax). The mask is any broadcast view: meta is its row layout over the scores' shape, as
// row_offsets / elem_offsets read it (one operand).
// attn_softmax_backward: in place, ds <- p * (ds - sum(ds * p)) (ds holds g @ v^T on entry).
#include "reduction_block.cuh"

template <class A> __device__ __forceinline__ A apply_mask(A v, const bool* m, i64 off) {
  return m[off] ? v : Limits<A>::lowest();
}
template <class A, class T> __device__ __forceinline__ A apply_mask(A v, const T* m, i64 off) {
  return v + load(m, off);
}

template <class T, class M>
__device__ __forceinline__ void attn_softmax_rows(T* __restrict__ s, const M* __restrict__ mask,
                                                  const i64* __restrict__ meta, int nk, int nr,
                                                  i64 rows, i64 len, i64 lq, int has_mask,
                                                  int causal, double scale) {
  typedef typename Opmath<T>::type A;
  const A neg_inf = Limits<A>::lowest();
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    i64 row[1] = {0}, off[1];
    if (active && has_mask) row_offsets<1>(o, nk, meta, row);
    const i64 n = active ? len : 0;
    const i64 l = active ? o % lq : 0;
    T* __restrict__ x = s + (active ? o * len : 0);
    A m = neg_inf;
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) {
      A v = load(x, r) * A(scale);
      if (has_mask) {
        elem_offsets<1>(r, nk, nr, meta, row, off);
        v = apply_mask<A>(v, mask, off[0]);
      }
      if (causal && r > l) v = neg_inf;
      x[r] = convert<T>(v);
      m = max_(m, v);
    }
    m = row_reduce(MaxCombine(), m);
    if (m == neg_inf) m = A(0);   // masked everywhere: exp gives 0, the sum 0
    A sum = A(0);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) sum += exp(load(x, r) - m);
    sum = row_reduce(AddCombine(), sum);
    const A inv = sum > A(0) ? A(1) / sum : A(0);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) x[r] = convert<T>(exp(load(x, r) - m) * inv);
  }
}

template <class T>
__device__ __forceinline__ void attn_softmax_backward_rows(T* __restrict__ ds,
                                                           const T* __restrict__ p, i64 rows,
                                                           i64 len) {
  typedef typename Opmath<T>::type A;
  ROW_LOOP(o, rows) {
    const bool active = o < rows;
    const i64 n = active ? len : 0;
    T* __restrict__ d = ds + (active ? o * len : 0);
    const T* __restrict__ q = p + (active ? o * len : 0);
    A sum = A(0);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x) sum += load(d, r) * load(q, r);
    sum = row_reduce(AddCombine(), sum);
    for (i64 r = threadIdx.x; r < n; r += blockDim.x)
      d[r] = convert<T>(load(q, r) * (load(d, r) - sum));
  }
}

#define ATTENTION_KERNELS(SUFFIX, T)                                                           \
  extern "C" __global__ void attn_softmax_##SUFFIX(T* s, const T* mask, const i64* meta,       \
                                                   int nk, int nr, i64 rows, i64 len, i64 lq,  \
                                                   int has_mask, int causal, double scale) {   \
    attn_softmax_rows<T, T>(s, mask, meta, nk, nr, rows, len, lq, has_mask, causal, scale);    \
  }                                                                                            \
  extern "C" __global__ void attn_softmax_bool_##SUFFIX(                                       \
      T* s, const bool* mask, const i64* meta, int nk, int nr, i64 rows, i64 len, i64 lq,      \
      int has_mask, int causal, double scale) {                                                \
    attn_softmax_rows<T, bool>(s, mask, meta, nk, nr, rows, len, lq, has_mask, causal, scale); \
  }                                                                                            \
  extern "C" __global__ void attn_softmax_backward_##SUFFIX(T* ds, const T* p, i64 rows,       \
                                                            i64 len) {                         \
    attn_softmax_backward_rows<T>(ds, p, rows, len);                                           \
  }
