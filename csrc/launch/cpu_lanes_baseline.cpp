// Batch-in-lanes skinning kernels for baseline (16-byte registers); flags in CMakeLists.txt.
#define TORCHRIG_ISA baseline
#define TORCHRIG_ISA_NAME "baseline"
#define TORCHRIG_LANE_BYTES 16
#include "cpu_lanes_isa.inc"
