/* decode_d256.cu: decode kernels for head dim 256 (see decode.cuh). */
#include "decode.cuh"

DEC_TABLE(256);
