/*
 * mgpu.h: the multi-GPU mode of the runner (kernels/mgpu.cu).
 */
#ifndef LEANSIM_MGPU_H
#define LEANSIM_MGPU_H

/* `leanbench --gpus N ...`: decode attention over N GPUs of this host,
 * checked and timed (see mgpu.cu).  Returns the process exit code: 0, 1
 * when a configuration failed, 2 on bad options. */
int mgpu_main(int argc, char **argv);

#endif
