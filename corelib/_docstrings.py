"""Docstrings for functions, Tensor methods and modules defined without one, added at import
(as PyTorch's torch/_torch_docs.py and _tensor_docs.py do): PyTorch's signature line, then
one sentence. Systematic families are written by rule: in-place variants ("In-place version
of ..."), Tensor methods that mirror a documented function ("See corelib.x()"), dtype
conversions and aliases. The rest are in the tables below."""
from __future__ import annotations

import inspect

_RETURNS_NOT_TENSOR = {
    "is_tensor": "bool", "is_floating_point": "bool", "is_complex": "bool",
    "is_contiguous": "bool", "is_grad_enabled": "bool", "is_inference_mode_enabled": "bool",
    "is_anomaly_enabled": "bool", "is_anomaly_check_nan_enabled": "bool", "numel": "int",
    "nelement": "int", "dim": "int", "ndimension": "int", "element_size": "int",
    "storage_offset": "int", "get_device": "int", "item": "number", "tolist": "list",
    "numpy": "numpy.ndarray", "size": "Size or int", "stride": "tuple or int",
    "initial_seed": "int", "seed": "int", "get_default_dtype": "dtype",
    "set_default_dtype": "None", "set_rng_state": "None", "get_rng_state": "Tensor",
    "backward": "None", "retain_grad": "None", "broadcast_shapes": "Size",
    "broadcast_tensors": "List[Tensor]", "dsplit": "List[Tensor]", "hsplit": "List[Tensor]",
    "vsplit": "List[Tensor]", "split_with_sizes": "List[Tensor]", "slogdet": "(Tensor, Tensor)",
    "qr": "(Tensor, Tensor)", "type": "str or Tensor", "atleast_1d": "Tensor or tuple",
    "atleast_2d": "Tensor or tuple", "atleast_3d": "Tensor or tuple",
    "max_pool1d_with_indices": "(Tensor, Tensor)", "max_pool2d_with_indices": "(Tensor, Tensor)",
}

_DTYPES = {"bfloat16": "bfloat16", "bool": "bool", "byte": "uint8", "char": "int8",
           "double": "float64", "float": "float32", "half": "float16", "int": "int32",
           "long": "int64", "short": "int16"}

# name -> one sentence, for functions (corelib.*, corelib.nn.functional.*, Tensor methods)
FUNCTIONS = {
    "adaptive_avg_pool1d": "1-D average pooling to a given output size over an input of "
                           "several planes.",
    "adaptive_avg_pool2d": "2-D average pooling to a given output size.",
    "adaptive_avg_pool3d": "3-D average pooling to a given output size.",
    "adaptive_max_pool1d": "1-D max pooling to a given output size.",
    "adaptive_max_pool2d": "2-D max pooling to a given output size.",
    "avg_pool1d": "1-D average pooling over an input of several planes.",
    "avg_pool2d": "2-D average pooling with kernel size and stride.",
    "avg_pool3d": "3-D average pooling with kernel size and stride.",
    "max_pool1d": "1-D max pooling over an input of several planes.",
    "max_pool2d": "2-D max pooling over an input of several planes.",
    "max_pool3d": "3-D max pooling over an input of several planes.",
    "max_pool1d_with_indices": "1-D max pooling that also returns the argmax indices.",
    "max_pool2d_with_indices": "2-D max pooling that also returns the argmax indices.",
    "conv_transpose3d": "3-D transposed convolution (a.k.a. deconvolution).",
    "dropout1d": "Zero whole channels of a (N, C, L) input with probability p in training.",
    "dropout2d": "Zero whole channels of a (N, C, H, W) input with probability p in training.",
    "dropout3d": "Zero whole channels of a (N, C, D, H, W) input with probability p in "
                 "training.",
    "hardshrink": "Elementwise x where |x| > lambd, else 0.",
    "softshrink": "Elementwise shrinkage of x towards 0 by lambd (0 inside [-lambd, lambd]).",
    "tanhshrink": "Elementwise x - tanh(x).",
    "softmin": "Softmax of -input along dim.",
    "leaky_relu": "Elementwise max(0, x) + negative_slope * min(0, x).",
    "hinge_embedding_loss": "Hinge embedding loss for targets in {1, -1}.",
    "huber_loss": "Huber loss: quadratic below delta, linear above.",
    "l1_loss": "Mean absolute error between input and target.",
    "mse_loss": "Mean squared error between input and target.",
    "smooth_l1_loss": "Smooth L1 loss: quadratic below beta, linear above.",
    "soft_margin_loss": "Two-class logistic loss log(1 + exp(-y * x)).",
    "margin_ranking_loss": "Ranking loss max(0, -y * (x1 - x2) + margin).",
    "multilabel_soft_margin_loss": "Multi-label one-versus-all loss based on max-entropy.",
    "poisson_nll_loss": "Negative log likelihood loss of a Poisson-distributed target.",
    "triplet_margin_loss": "Triplet loss max(d(a, p) - d(a, n) + margin, 0) with p-norm "
                           "distances.",
    "upsample": "Upsample the input (deprecated alias of interpolate).",
    "wrap_dim": "A dim index made non-negative for a tensor of ndim dims (checked).",
    "adjoint": "View of the conjugate transpose of the last two dims.",
    "arange": "1-D tensor of values from start to end (exclusive) with the given step.",
    "argwhere": "Indices of the non-zero elements, one row per element.",
    "atleast_1d": "Inputs as tensors with at least one dimension.",
    "atleast_2d": "Inputs as tensors with at least two dimensions.",
    "atleast_3d": "Inputs as tensors with at least three dimensions.",
    "broadcast_shapes": "The shape the given shapes broadcast to.",
    "broadcast_tensors": "The tensors expanded to their common broadcast shape.",
    "broadcast_to": "View of input expanded to shape by broadcasting.",
    "cholesky": "Cholesky factor of a symmetric positive-definite matrix (lower by default).",
    "clamp_max": "Elementwise min(input, max).",
    "clamp_min": "Elementwise max(input, min).",
    "column_stack": "Stack tensors horizontally as columns.",
    "contiguous": "A contiguous tensor with the same data (self if already contiguous).",
    "det": "Determinant of a square matrix or batch of them.",
    "diagflat": "2-D tensor with the flattened input on the offset diagonal.",
    "dsplit": "Split a tensor of 3 or more dims depthwise (along dim 2).",
    "dstack": "Stack tensors depthwise (along the third dim).",
    "empty": "Tensor of the given size with uninitialized data.",
    "empty_like": "Uninitialized tensor of the same size as input.",
    "eye": "2-D tensor with ones on the diagonal and zeros elsewhere.",
    "flatten": "Flatten dims start_dim..end_dim into one.",
    "fliplr": "Flip in the left/right direction (dim 1).",
    "flipud": "Flip in the up/down direction (dim 0).",
    "full": "Tensor of the given size filled with fill_value.",
    "full_like": "Tensor of input's size filled with fill_value.",
    "get_default_dtype": "The current default floating point dtype.",
    "get_rng_state": "The default generator's state as a uint8 tensor.",
    "hsplit": "Split a tensor horizontally (dim 1, or 0 for 1-D).",
    "hstack": "Stack tensors horizontally (column-wise).",
    "index_copy": "Copy of input with rows of source written at index along dim.",
    "index_put": "Copy of input with values written at the index tuple (summed if "
                 "accumulate).",
    "initial_seed": "The initial seed of the default generator.",
    "inverse": "Inverse of a square matrix or batch of them.",
    "is_anomaly_check_nan_enabled": "Whether anomaly detection also checks for NaN.",
    "is_anomaly_enabled": "Whether autograd anomaly detection is on.",
    "is_floating_point": "Whether input's dtype is a floating point type.",
    "is_grad_enabled": "Whether gradient recording is currently enabled.",
    "is_inference_mode_enabled": "Whether inference mode is currently enabled.",
    "is_tensor": "Whether obj is a corelib Tensor.",
    "linspace": "1-D tensor of steps values evenly spaced from start to end.",
    "logspace": "1-D tensor of steps values base ** linspace(start, end).",
    "moveaxis": "Alias for movedim.",
    "movedim": "View with the dims at source moved to destination.",
    "numel": "Number of elements of input.",
    "ones": "Tensor of the given size filled with 1.",
    "ones_like": "Tensor of input's size filled with 1.",
    "permute": "View with the dims reordered.",
    "qr": "QR decomposition of a matrix or batch of them.",
    "rand": "Tensor of samples uniform on [0, 1).",
    "rand_like": "Tensor of input's size with samples uniform on [0, 1).",
    "randint": "Tensor of integers uniform on [low, high).",
    "randint_like": "Tensor of input's size with integers uniform on [low, high).",
    "randn": "Tensor of standard normal samples.",
    "randn_like": "Tensor of input's size with standard normal samples.",
    "randperm": "Random permutation of 0..n-1.",
    "ravel": "Flattened 1-D tensor (a view when possible).",
    "row_stack": "Alias for vstack.",
    "scatter_add": "Copy of input with src values added at index along dim.",
    "seed": "Seed the default generator non-deterministically and return the seed.",
    "set_default_dtype": "Set the default floating point dtype.",
    "set_rng_state": "Set the default generator's state.",
    "slogdet": "Sign and log of the absolute determinant.",
    "split_with_sizes": "Split into chunks of the given sizes along dim.",
    "squeeze": "View with size-1 dims removed (all, or those in dim).",
    "stack": "Concatenate tensors of equal shape along a new dim.",
    "swapaxes": "Alias for transpose.",
    "swapdims": "Alias for transpose.",
    "t": "Transpose of a tensor of at most 2 dims.",
    "tile": "Repeat input along each dim by dims.",
    "trace": "Sum of the diagonal of a 2-D tensor.",
    "transpose": "View with dims dim0 and dim1 swapped.",
    "unflatten": "Expand dim into the given sizes.",
    "unsqueeze": "View with a size-1 dim inserted at dim.",
    "vsplit": "Split a tensor vertically (dim 0).",
    "vstack": "Stack tensors vertically (row-wise).",
    "zeros": "Tensor of the given size filled with 0.",
    "zeros_like": "Tensor of input's size filled with 0.",
    # Tensor-only methods
    "backward": "Accumulate the gradient of this tensor into the leaves' .grad.",
    "retain_grad": "Keep .grad for this non-leaf tensor after backward.",
    "requires_grad_": "Set requires_grad in place and return self.",
    "detach_": "Detach this tensor from the graph in place.",
    "cpu": "Copy of this tensor in CPU memory (self if already there).",
    "cuda": "Copy of this tensor in CUDA memory (self if already there).",
    "dim": "Number of dimensions.",
    "ndimension": "Alias for dim().",
    "nelement": "Alias for numel().",
    "element_size": "Size in bytes of one element.",
    "expand_as": "View of self expanded to other's size.",
    "reshape_as": "self reshaped to other's shape.",
    "view_as": "View of self with other's shape.",
    "type_as": "self cast to other's dtype.",
    "get_device": "Device index of the tensor (-1 on CPU).",
    "is_complex": "Whether the dtype is complex (never, in corelib).",
    "is_contiguous": "Whether the tensor is contiguous in memory.",
    "item": "The value of a one-element tensor as a Python number.",
    "tolist": "The tensor's values as (nested) Python lists.",
    "numpy": "The tensor's values as a NumPy array (sharing memory on the CPU).",
    "size": "The tensor's shape, or the size of one dim.",
    "stride": "The tensor's strides, or the stride of one dim.",
    "storage_offset": "Offset of the first element in the underlying storage.",
    "type": "The type name, or a copy cast to the given dtype.",
    "new_empty": "Uninitialized tensor of size with self's dtype and device.",
    "new_full": "Tensor of size filled with fill_value, self's dtype and device.",
    "new_ones": "Tensor of size filled with 1, self's dtype and device.",
    "new_zeros": "Tensor of size filled with 0, self's dtype and device.",
    "new_tensor": "Tensor of data with self's dtype and device.",
    "zero_": "Fill with zeros in place.",
    "bernoulli": "Binary samples with probabilities self.",
    "multinomial": "Indices sampled from the rows of self as unnormalized probabilities.",
    "add": "self + alpha * other.",
    "sub": "self - alpha * other.",
    "subtract": "Alias for sub.",
    "div": "self / other, with optional rounding_mode.",
    "divide": "Alias for div.",
    "true_divide": "Alias for div with rounding_mode=None.",
    "neg": "Elementwise -self.",
    "negative": "Alias for neg.",
    "relu": "Elementwise max(0, x).",
    "softmax": "Softmax along dim.",
    "log_softmax": "Log of softmax along dim.",
    "where": "Elements of self where condition, else of other.",
    "index_put_": "Write values at the index tuple in place (summed if accumulate).",
    "put_": "Write source at flat indices in place (summed if accumulate).",
    "div_trunc_": "In-place division rounded towards zero.",
    "once_differentiable": "Decorator for a Function's backward that is not itself "
                           "differentiable.",
}

# name -> one sentence, for nn module classes
MODULES = {
    "AdaptiveAvgPool1d": "1-D adaptive average pooling to a given output size.",
    "AdaptiveAvgPool2d": "2-D adaptive average pooling to a given output size.",
    "AdaptiveAvgPool3d": "3-D adaptive average pooling to a given output size.",
    "AdaptiveMaxPool1d": "1-D adaptive max pooling to a given output size.",
    "AdaptiveMaxPool2d": "2-D adaptive max pooling to a given output size.",
    "AdaptiveMaxPool3d": "3-D adaptive max pooling to a given output size.",
    "AlphaDropout": "Dropout that keeps the self-normalizing property (mean and variance).",
    "AvgPool1d": "1-D average pooling.", "AvgPool2d": "2-D average pooling.",
    "AvgPool3d": "3-D average pooling.",
    "MaxPool1d": "1-D max pooling.", "MaxPool2d": "2-D max pooling.",
    "MaxPool3d": "3-D max pooling.",
    "LPPool1d": "1-D power-average pooling.", "LPPool2d": "2-D power-average pooling.",
    "BCELoss": "Binary cross entropy between probabilities and targets.",
    "BCEWithLogitsLoss": "Sigmoid and binary cross entropy in one numerically stable loss.",
    "BatchNorm1d": "Batch normalization over a 2-D or 3-D input.",
    "BatchNorm2d": "Batch normalization over a 4-D input.",
    "BatchNorm3d": "Batch normalization over a 5-D input.",
    "InstanceNorm1d": "Instance normalization over a 2-D or 3-D input.",
    "InstanceNorm2d": "Instance normalization over a 3-D or 4-D input.",
    "InstanceNorm3d": "Instance normalization over a 4-D or 5-D input.",
    "CELU": "Elementwise max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).",
    "CTCLoss": "Connectionist Temporal Classification loss.",
    "ChannelShuffle": "Divide the channels into groups and interleave them.",
    "CosineEmbeddingLoss": "Loss on cosine similarity of pairs labelled 1 or -1.",
    "CosineSimilarity": "Cosine similarity between x1 and x2 along dim.",
    "CrossEntropyLoss": "Cross entropy between unnormalized logits and class indices or "
                        "probabilities.",
    "Dropout": "Zero elements with probability p in training, scaling the rest by 1/(1-p).",
    "Dropout1d": "Zero whole channels of 1-D feature maps with probability p in training.",
    "Dropout2d": "Zero whole channels of 2-D feature maps with probability p in training.",
    "Dropout3d": "Zero whole channels of 3-D feature maps with probability p in training.",
    "FeatureAlphaDropout": "Alpha dropout of whole channels.",
    "ELU": "Elementwise exponential linear unit.",
    "Fold": "Combine an array of sliding local blocks into a large tensor.",
    "Unfold": "Extract sliding local blocks from a batched input.",
    "GELU": "Elementwise Gaussian error linear unit.",
    "GLU": "Gated linear unit: first half * sigmoid(second half) along dim.",
    "GRUCell": "One step of a gated recurrent unit.",
    "LSTMCell": "One step of a long short-term memory cell.",
    "RNNCell": "One step of an Elman RNN with tanh or ReLU.",
    "RNNCellBase": "Parameters and checks shared by the RNN cells.",
    "GaussianNLLLoss": "Gaussian negative log likelihood loss.",
    "Hardshrink": "Elementwise x where |x| > lambd, else 0.",
    "Hardsigmoid": "Elementwise piecewise-linear sigmoid.",
    "Hardswish": "Elementwise x * hardsigmoid(x).",
    "Hardtanh": "Elementwise clamp to [min_val, max_val].",
    "HingeEmbeddingLoss": "Hinge embedding loss for targets in {1, -1}.",
    "HuberLoss": "Huber loss: quadratic below delta, linear above.",
    "KLDivLoss": "Kullback-Leibler divergence loss.",
    "L1Loss": "Mean absolute error.",
    "MSELoss": "Mean squared error.",
    "LeakyReLU": "Elementwise max(0, x) + negative_slope * min(0, x).",
    "LocalResponseNorm": "Local response normalization across channels.",
    "LogSigmoid": "Elementwise log(sigmoid(x)).",
    "LogSoftmax": "Log of softmax along dim.",
    "MarginRankingLoss": "Ranking loss max(0, -y * (x1 - x2) + margin).",
    "Mish": "Elementwise x * tanh(softplus(x)).",
    "MultiLabelMarginLoss": "Multi-class multi-label hinge loss.",
    "MultiLabelSoftMarginLoss": "Multi-label one-versus-all loss based on max-entropy.",
    "MultiMarginLoss": "Multi-class hinge loss.",
    "NLLLoss": "Negative log likelihood loss on log-probabilities.",
    "NLLLoss2d": "Deprecated alias of NLLLoss.",
    "PairwiseDistance": "p-norm distance between the rows of x1 and x2.",
    "PixelShuffle": "Rearrange (*, C*r*r, H, W) into (*, C, H*r, W*r).",
    "PixelUnshuffle": "Rearrange (*, C, H*r, W*r) into (*, C*r*r, H, W).",
    "PoissonNLLLoss": "Negative log likelihood loss of a Poisson-distributed target.",
    "RReLU": "Leaky ReLU with a random negative slope in training.",
    "ReLU": "Elementwise max(0, x).", "ReLU6": "Elementwise min(max(0, x), 6).",
    "SELU": "Elementwise scaled exponential linear unit.",
    "SiLU": "Elementwise x * sigmoid(x).", "Sigmoid": "Elementwise logistic sigmoid.",
    "SmoothL1Loss": "Smooth L1 loss: quadratic below beta, linear above.",
    "SoftMarginLoss": "Two-class logistic loss log(1 + exp(-y * x)).",
    "Softmax": "Softmax along dim.",
    "Softmax2d": "Softmax over the channels at every spatial location.",
    "Softmin": "Softmax of -input along dim.",
    "Softplus": "Elementwise log(1 + exp(beta * x)) / beta.",
    "Softshrink": "Elementwise shrinkage towards 0 by lambd.",
    "Softsign": "Elementwise x / (1 + |x|).",
    "Tanh": "Elementwise hyperbolic tangent.",
    "Tanhshrink": "Elementwise x - tanh(x).",
    "Threshold": "Elementwise x where x > threshold, else value.",
    "TripletMarginLoss": "Triplet loss with p-norm distances.",
    "TripletMarginWithDistanceLoss": "Triplet loss with a custom distance function.",
    "UpsamplingBilinear2d": "2-D bilinear upsampling (align_corners=True).",
    "UpsamplingNearest2d": "2-D nearest-neighbour upsampling.",
}


def _has_doc(obj, own_class=False):
    doc = obj.__dict__.get("__doc__") if own_class else getattr(obj, "__doc__", None)
    return bool((doc or "").strip())


def _params(obj):
    target = obj.__init__ if isinstance(obj, type) else obj
    try:
        return list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return None


def signature_line(name, obj, returns="Tensor", method=False, base=None):
    """``name(params) -> returns`` from the object's Python signature (self and private
    parameters dropped); a generic ``(*args, **kwargs)`` takes ``base``'s minus ``out``."""
    params = _params(obj)
    if params and params[0].name == "self":
        params = params[1:]
    if params is not None and base is not None and \
            all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        params = [p for p in (_params(base) or params) if p.name != "out" and
                  p.kind is not p.VAR_KEYWORD]
    if params is None:
        return f"{name}(...)" + (f" -> {returns}" if returns else "")
    if params and (params[0].name == "self" or (method and params[0].name == "input")):
        params = params[1:]
    params = [p for p in params if not p.name.startswith("_")]
    return f"{name}{inspect.Signature(params)}" + (f" -> {returns}" if returns else "")


def _set(obj, text):
    try:
        obj.__doc__ = text
    except (AttributeError, TypeError):
        pass


def _function_doc(name, fn, method, documented, bases):
    returns = _RETURNS_NOT_TENSOR.get(name.rstrip("_") if name.endswith("_") and
                                      name.rstrip("_") in _RETURNS_NOT_TENSOR else name,
                                      "Tensor")
    if name in FUNCTIONS:
        sentence = FUNCTIONS[name]
    elif name in _DTYPES:
        sentence = f"self.{name}() is equivalent to self.to(corelib.{_DTYPES[name]})."
    elif name.endswith("_") and not name.endswith("__") and name[:-1] in documented:
        sentence = f"In-place version of {name[:-1]}()."
    elif name in documented:
        sentence = f"See corelib.{name}()."
    else:
        return None
    base = bases.get(name[:-1]) if name.endswith("_") else None
    return signature_line(name, fn, returns, method, base) + "\n\n" + sentence


def fill():
    """Document what was defined without a docstring (idempotent)."""
    import corelib
    from corelib.nn import functional as F
    from corelib import autograd, linalg, nn

    tensor_methods = {n: v for n, v in vars(corelib.Tensor).items() if inspect.isfunction(v)}
    bases = {**{n: getattr(corelib, n) for n in dir(corelib)
                if inspect.isfunction(getattr(corelib, n, None))}, **tensor_methods}
    for _ in range(2):   # the second pass sees the bases documented in the first
        documented = {n for n, v in bases.items() if _has_doc(v)}
        for namespace in (corelib, F, linalg, autograd):
            for name in dir(namespace):
                fn = getattr(namespace, name, None)
                if name.startswith("_") or not inspect.isfunction(fn) or _has_doc(fn):
                    continue
                text = _function_doc(name, fn, False, documented, bases)
                if text:
                    _set(fn, text)
        for name, fn in tensor_methods.items():
            if name.startswith("_") or _has_doc(fn):
                continue
            text = _function_doc(name, fn, True, documented, bases)
            if text:
                _set(fn, text)
    for name in nn.__all__:
        cls = getattr(nn, name)
        if isinstance(cls, type) and not _has_doc(cls, True) and name in MODULES:
            cls.__doc__ = signature_line(name, cls, None) + "\n\n" + MODULES[name]
