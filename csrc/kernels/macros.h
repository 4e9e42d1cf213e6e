// Portability macros shared by the plain-C++ kernels (host and CUDA).
#pragma once

#if defined(__CUDACC__)
#define TORCHRIG_HOST_DEVICE __host__ __device__
#else
#define TORCHRIG_HOST_DEVICE
#endif
