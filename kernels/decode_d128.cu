/* decode_d128.cu: decode kernels for head dim 128 (see decode.cuh). */
#include "decode.cuh"

DEC_TABLE(128);
