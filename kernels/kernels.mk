# kernels.mk: CUDA decode kernels, the runner build/leanbench and the GPU
# correctness suite (included by the top-level Makefile).
#   make kernels    builds build/leanbench and build/gputest (no GPU needed)
#   make gpu-test   builds and runs the correctness suite (needs a GPU)
# The planner and option parser are plain C11, compiled with $(CC); the
# driver API (green contexts) links against the toolkit's stub library.

KBUILD    = $(BUILD)/kernels
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
KNVFLAGS  = $(NVFLAGS) -Isim -Ikernels -Xcompiler -Wall
# NCCL where the toolkit or the system has it (the gather of leanbench --gpus)
KNCCL_DIR := $(firstword $(foreach d,$(CUDA_HOME)/lib $(CUDA_HOME)/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64,\
               $(if $(wildcard $(d)/libnccl.so),$(d))))
ifneq ($(KNCCL_DIR),)
  KNVFLAGS += -DMGPU_WITH_NCCL=1
  KNCCL_LIBS = -L$(KNCCL_DIR) -Xlinker -rpath=$(KNCCL_DIR) -lnccl
endif
KLIBS     = -L$(CUDA_HOME)/lib64/stubs -lcuda -lpthread $(KNCCL_LIBS)
KHDR      = kernels/attn.h kernels/mgpu.h kernels/decode.cuh sim/plan.h sim/opts.h sim/runcsv.h
KDEC_OBJ  = $(KBUILD)/decode_d64.o $(KBUILD)/decode_d128.o $(KBUILD)/decode_d256.o
KCOMMON   = $(KDEC_OBJ) $(KBUILD)/attn.o $(KBUILD)/ref.o $(KBUILD)/bench.o $(KBUILD)/plan.o $(KBUILD)/opts.o

kernels: $(BUILD)/leanbench $(BUILD)/gputest $(BUILD)/linkbench $(BUILD)/gpcmap

$(KBUILD)/plan.o: sim/plan.c sim/plan.h
	@mkdir -p $(KBUILD)
	$(Q)$(CC) $(CSTD) $(WARN) $(CFLAGS) -Isim -c $< -o $@
$(KBUILD)/opts.o: sim/opts.c sim/opts.h sim/plan.h
	@mkdir -p $(KBUILD)
	$(Q)$(CC) $(CSTD) $(WARN) $(CFLAGS) -Isim -c $< -o $@
$(KBUILD)/%.o: kernels/%.cu $(KHDR)
	@mkdir -p $(KBUILD)
	@$(if $(Q),echo "  NVCC    $<")
	$(Q)$(NVCC) $(KNVFLAGS) -c $< -o $@
# the decode kernels keep the compiler's resource report beside the object
# (decode_dN.o.ptxas), which tests/cli_kres.sh holds sim/kres.c to
$(KBUILD)/decode_%.o: kernels/decode_%.cu $(KHDR)
	@mkdir -p $(KBUILD)
	@$(if $(Q),echo "  NVCC    $<")
	$(Q)$(NVCC) $(KNVFLAGS) -Xptxas -v -c $< -o $@ 2>$@.ptxas; rc=$$?; \
	  grep -v -e '^ptxas info' -e 'bytes stack frame' $@.ptxas >&2; exit $$rc
$(KBUILD)/ref.o: kernels/ref.cpp kernels/attn.h sim/plan.h
	@mkdir -p $(KBUILD)
	$(Q)$(NVCC) $(KNVFLAGS) -O3 -x cu -c $< -o $@

# the CPU reference's test: host code alone, no GPU needed (make test runs it)
$(BUILD)/tests/test_ref: tests/test_ref.cu tests/testhelp.h $(KBUILD)/ref.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NVCC    $<")
	$(Q)$(NVCC) $(KNVFLAGS) -Itests $< $(KBUILD)/ref.o -o $@ -lpthread

$(BUILD)/leanbench: $(KBUILD)/leanbench.o $(KBUILD)/mgpu.o $(KCOMMON)
	@$(if $(Q),echo "  NVLD    $@")
	$(Q)$(NVCC) $(NVFLAGS) $^ -o $@ $(KLIBS)
$(KBUILD)/gputest.o: sim/gpu.h
# gputest also links the simulator's chip specs and kernel resources (the
# sim/ floor alone, which needs neither GSL nor SQLite: the GPU machines
# have neither) to hold them to the driver
KSIM_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard sim/*.c)) $(BUILD)/embed.o
$(BUILD)/libleansim-sim.a: $(KSIM_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/gputest: $(KBUILD)/gputest.o $(KCOMMON) $(BUILD)/libleansim-sim.a
	@$(if $(Q),echo "  NVLD    $@")
	$(Q)$(NVCC) $(NVFLAGS) $^ -o $@ $(KLIBS) -lm

$(BUILD)/linkbench: kernels/linkbench.cu kernels/attn.h
	@mkdir -p $(KBUILD)
	@$(if $(Q),echo "  NVCC    $<")
	$(Q)$(NVCC) $(KNVFLAGS) $< -o $@

$(BUILD)/gpcmap: kernels/gpcmap.cu kernels/attn.h
	@mkdir -p $(KBUILD)
	@$(if $(Q),echo "  NVCC    $<")
	$(Q)$(NVCC) $(KNVFLAGS) $< -o $@

gpu-test: $(BUILD)/gputest
	$(Q)$(BUILD)/gputest
