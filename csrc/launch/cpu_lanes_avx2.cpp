// Batch-in-lanes skinning kernels for avx2 (32-byte registers); flags in CMakeLists.txt.
#define TORCHRIG_ISA avx2
#define TORCHRIG_ISA_NAME "avx2"
#define TORCHRIG_LANE_BYTES 32
#include "cpu_lanes_isa.inc"
