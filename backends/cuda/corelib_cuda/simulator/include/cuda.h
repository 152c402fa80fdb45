// cuda.h: empty stub for the corelib CUDA simulator (everything lives in cuda_sim.h).
#pragma once
