"""Kernel families of the CUDA backend; each module exports ``KERNELS`` (op name -> kernel)."""
