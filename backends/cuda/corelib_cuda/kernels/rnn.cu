// One time step of the recurrent cells (rnn_sequence and its backward, ops/rnn.py): the host
// runs the steps, one cuBLAS matmul (h @ w_hh.T, or the gradient's dgates @ w_hh) plus one of
// these elementwise kernels each. One thread per (n, j) of the (N, H) state; every operand is
// a contiguous row-major array handed at the step's position (gates: (N, G*H) rows).
// LSTM gates are i, f, g, o; GRU r, z, n. Workspaces (written forward, read backward):
// LSTM acts (N, 4H) = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) and c, tanh(c) per step;
// GRU acts (N, 4H) = r, z, n and hn = (W_hn h + b_hn). float16 computes in float.
#include "common.cuh"

template <class A> __device__ __forceinline__ A rnn_sigmoid(A x) {
  const A e = exp(-fabs(x));   // exp of a non-positive number only
  const A pos = A(1) / (A(1) + e);
  return x >= A(0) ? pos : e * pos;
}

// hh: (N, G*H) = h_prev @ w_hh.T; bias (G*H) or null; x: the step's input projections
template <class T, class A>
__device__ __forceinline__ A gate_pre(const T* __restrict__ hh, const T* __restrict__ bias,
                                      i64 row, i64 col) {
  return load(hh, row + col) + (bias ? load(bias, col) : A(0));
}

// ---- LSTM -------------------------------------------------------------------------------
template <class T>
__device__ __forceinline__ void lstm_forward(const T* __restrict__ hh, const T* __restrict__ bias,
                                             const T* __restrict__ x, const T* __restrict__ c_prev,
                                             T* __restrict__ acts, T* __restrict__ c_out,
                                             T* __restrict__ tc_out, T* __restrict__ h_out,
                                             i64 n, i64 hid) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(idx, n * hid) {
    const i64 r = idx / hid, j = idx % hid, row = r * 4 * hid;
    const A i = rnn_sigmoid<A>(gate_pre<T, A>(hh, bias, row, j) + load(x, row + j));
    const A f = rnn_sigmoid<A>(gate_pre<T, A>(hh, bias, row, hid + j) + load(x, row + hid + j));
    const A g = tanh(gate_pre<T, A>(hh, bias, row, 2 * hid + j) + load(x, row + 2 * hid + j));
    const A o = rnn_sigmoid<A>(gate_pre<T, A>(hh, bias, row, 3 * hid + j) +
                               load(x, row + 3 * hid + j));
    acts[row + j] = convert<T>(i);
    acts[row + hid + j] = convert<T>(f);
    acts[row + 2 * hid + j] = convert<T>(g);
    acts[row + 3 * hid + j] = convert<T>(o);
    const A c = f * load(c_prev, idx) + i * g;
    const A tc = tanh(c);
    c_out[idx] = convert<T>(c);
    tc_out[idx] = convert<T>(tc);
    h_out[idx] = convert<T>(o * tc);
  }
}

// dh += dy; then the gate gradients dgates (N, 4H) and dc = (dc + dh o (1 - tanh(c)^2)) f
template <class T>
__device__ __forceinline__ void lstm_backward(const T* __restrict__ acts,
                                              const T* __restrict__ c_prev,
                                              const T* __restrict__ tc, const T* __restrict__ dy,
                                              T* __restrict__ dh, T* __restrict__ dc,
                                              T* __restrict__ dgates, i64 n, i64 hid) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(idx, n * hid) {
    const i64 r = idx / hid, j = idx % hid, row = r * 4 * hid;
    const A i = load(acts, row + j), f = load(acts, row + hid + j);
    const A g = load(acts, row + 2 * hid + j), o = load(acts, row + 3 * hid + j);
    const A t = load(tc, idx);
    const A h_grad = load(dh, idx) + load(dy, idx);
    const A c_grad = load(dc, idx) + h_grad * o * (A(1) - t * t);
    dgates[row + j] = convert<T>(c_grad * g * i * (A(1) - i));
    dgates[row + hid + j] = convert<T>(c_grad * load(c_prev, idx) * f * (A(1) - f));
    dgates[row + 2 * hid + j] = convert<T>(c_grad * i * (A(1) - g * g));
    dgates[row + 3 * hid + j] = convert<T>(h_grad * t * o * (A(1) - o));
    dc[idx] = convert<T>(c_grad * f);
  }
}

// ---- GRU --------------------------------------------------------------------------------
template <class T>
__device__ __forceinline__ void gru_forward(const T* __restrict__ hh, const T* __restrict__ bias,
                                            const T* __restrict__ x, const T* __restrict__ h_prev,
                                            T* __restrict__ acts, T* __restrict__ h_out, i64 n,
                                            i64 hid) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(idx, n * hid) {
    const i64 r = idx / hid, j = idx % hid, xrow = r * 3 * hid, arow = r * 4 * hid;
    const A rg = rnn_sigmoid<A>(gate_pre<T, A>(hh, bias, xrow, j) + load(x, xrow + j));
    const A z = rnn_sigmoid<A>(gate_pre<T, A>(hh, bias, xrow, hid + j) +
                               load(x, xrow + hid + j));
    const A hn = gate_pre<T, A>(hh, bias, xrow, 2 * hid + j);
    const A nv = tanh(load(x, xrow + 2 * hid + j) + rg * hn);
    acts[arow + j] = convert<T>(rg);
    acts[arow + hid + j] = convert<T>(z);
    acts[arow + 2 * hid + j] = convert<T>(nv);
    acts[arow + 3 * hid + j] = convert<T>(hn);
    h_out[idx] = convert<T>(nv + z * (load(h_prev, idx) - nv));
  }
}

// dh += dy; dx (N, 3H) = d(r, z, n) pre-activations, dhh (N, 3H) = gradient of h @ w_hh.T +
// b_hh, direct = dh z (the part of dh_prev not through w_hh)
template <class T>
__device__ __forceinline__ void gru_backward(const T* __restrict__ acts,
                                             const T* __restrict__ h_prev,
                                             const T* __restrict__ dy, const T* __restrict__ dh,
                                             T* __restrict__ dx, T* __restrict__ dhh,
                                             T* __restrict__ direct, i64 n, i64 hid) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(idx, n * hid) {
    const i64 r = idx / hid, j = idx % hid, xrow = r * 3 * hid, arow = r * 4 * hid;
    const A rg = load(acts, arow + j), z = load(acts, arow + hid + j);
    const A nv = load(acts, arow + 2 * hid + j), hn = load(acts, arow + 3 * hid + j);
    const A h_grad = load(dh, idx) + load(dy, idx);
    const A dn = h_grad * (A(1) - z) * (A(1) - nv * nv);
    const A dr = dn * hn * rg * (A(1) - rg);
    const A dz = h_grad * (load(h_prev, idx) - nv) * z * (A(1) - z);
    dx[xrow + j] = convert<T>(dr);
    dx[xrow + hid + j] = convert<T>(dz);
    dx[xrow + 2 * hid + j] = convert<T>(dn);
    dhh[xrow + j] = convert<T>(dr);
    dhh[xrow + hid + j] = convert<T>(dz);
    dhh[xrow + 2 * hid + j] = convert<T>(dn * rg);
    direct[idx] = convert<T>(h_grad * z);
  }
}

// ---- RNN (tanh / relu) --------------------------------------------------------------------
template <class T>
__device__ __forceinline__ void rnn_forward(const T* __restrict__ hh, const T* __restrict__ bias,
                                            const T* __restrict__ x, T* __restrict__ h_out, i64 n,
                                            i64 hid, int relu) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(idx, n * hid) {
    const A pre = load(hh, idx) + (bias ? load(bias, idx % hid) : A(0)) + load(x, idx);
    h_out[idx] = convert<T>(relu ? (pre > A(0) ? pre : (pre != pre ? pre : A(0))) : tanh(pre));
  }
}

// dx = (dh + dy) * act'(y), act' from the output y
template <class T>
__device__ __forceinline__ void rnn_backward(const T* __restrict__ y, const T* __restrict__ dy,
                                             const T* __restrict__ dh, T* __restrict__ dx, i64 n,
                                             i64 hid, int relu) {
  typedef typename Opmath<T>::type A;
  GRID_STRIDE_LOOP(idx, n * hid) {
    const A yv = load(y, idx);
    const A h_grad = load(dh, idx) + load(dy, idx);
    dx[idx] = convert<T>(relu ? (yv > A(0) ? h_grad : A(0)) : h_grad * (A(1) - yv * yv));
  }
}

#define RNN_KERNELS(SUFFIX, T)                                                                 \
  extern "C" __global__ void lstm_forward_##SUFFIX(const T* hh, const T* bias, const T* x,     \
                                                   const T* c_prev, T* acts, T* c_out,          \
                                                   T* tc_out, T* h_out, i64 n, i64 hid) {       \
    lstm_forward<T>(hh, bias, x, c_prev, acts, c_out, tc_out, h_out, n, hid);                  \
  }                                                                                            \
  extern "C" __global__ void lstm_backward_##SUFFIX(const T* acts, const T* c_prev,            \
                                                    const T* tc, const T* dy, T* dh, T* dc,     \
                                                    T* dgates, i64 n, i64 hid) {                \
    lstm_backward<T>(acts, c_prev, tc, dy, dh, dc, dgates, n, hid);                            \
  }                                                                                            \
  extern "C" __global__ void gru_forward_##SUFFIX(const T* hh, const T* bias, const T* x,      \
                                                  const T* h_prev, T* acts, T* h_out, i64 n,     \
                                                  i64 hid) {                                    \
    gru_forward<T>(hh, bias, x, h_prev, acts, h_out, n, hid);                                  \
  }                                                                                            \
  extern "C" __global__ void gru_backward_##SUFFIX(const T* acts, const T* h_prev,             \
                                                   const T* dy, const T* dh, T* dx, T* dhh,     \
                                                   T* direct, i64 n, i64 hid) {                 \
    gru_backward<T>(acts, h_prev, dy, dh, dx, dhh, direct, n, hid);                            \
  }                                                                                            \
  extern "C" __global__ void rnn_forward_##SUFFIX(const T* hh, const T* bias, const T* x,      \
                                                  T* h_out, i64 n, i64 hid, int relu) {          \
    rnn_forward<T>(hh, bias, x, h_out, n, hid, relu);                                          \
  }                                                                                            \
  extern "C" __global__ void rnn_backward_##SUFFIX(const T* y, const T* dy, const T* dh,       \
                                                   T* dx, i64 n, i64 hid, int relu) {           \
    rnn_backward<T>(y, dy, dh, dx, n, hid, relu);                                              \
  }
