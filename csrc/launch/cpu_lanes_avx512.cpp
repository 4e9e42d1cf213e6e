// Batch-in-lanes skinning kernels for avx512 (64-byte registers); flags in CMakeLists.txt.
#define TORCHRIG_ISA avx512
#define TORCHRIG_ISA_NAME "avx512"
#define TORCHRIG_LANE_BYTES 64
#include "cpu_lanes_isa.inc"
