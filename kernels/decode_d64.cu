/* decode_d64.cu: decode kernels for head dim 64 (see decode.cuh). */
#include "decode.cuh"

DEC_TABLE(64);
