# leansim: one Makefile for the host tools (C11, gcc), the CUDA kernels
# (nvcc) and the tests.  `make V=1` shows the commands;
# `make test SANITIZE=address,undefined` builds instrumented into build-san/.

CC       ?= gcc
NVCC     ?= /usr/local/cuda/bin/nvcc
CFLAGS   ?= -O2 -g
CSTD      = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
NVFLAGS  ?= -O3 -gencode arch=compute_90,code=sm_90 -std=c++17 -lineinfo
LIBS      = -lgsl -lgslcblas -lsqlite3 -lm
GNUPLOT  ?= gnuplot

SANITIZE ?=
ifneq ($(SANITIZE),)
  SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
  BUILD   ?= build-san
else
  BUILD   ?= build
endif

ifeq ($(V),1)
  Q =
else
  Q = @
endif

# Include paths run down the floors (cli, results, model, sim); a floor's
# sources may include only headers of the floors below it (tests/layers.sh).
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(SANFLAGS) -Isim -Imodel -Iresults -Icli -I$(BUILD)

LIB_SRC  = $(filter-out cli/main.c,$(wildcard sim/*.c model/*.c results/*.c cli/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embed.o
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GPU_SPECS = $(sort $(wildcard experiments/gpus/*.gpu))
KERNEL_PROFILES = $(sort $(wildcard experiments/kernels/*.kernel))
EMBED_IN  = $(GPU_SPECS) $(KERNEL_PROFILES) $(wildcard experiments/*.sql)

.PHONY: all test bench kernels gpu-test figures clean main doc install uninstall dump-engines
all: $(BUILD)/leansim

# version.h: the version, the git commit and the engines' source hash (a
# checksum of every file that computes a prediction: stored predictions are
# keyed by it, so a changed simulator or model never reads an old row as
# its own), rewritten only when they change
VERSION = 0.1.0
ENGINE_SRC = sim/engine.c sim/sim.c sim/plan.c sim/kres.c sim/kprof.c sim/gpu.c sim/specfile.c model/model.c
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@printf '#define LEANSIM_VERSION "%s"\n#define LEANSIM_GIT_COMMIT "%s"\n#define LEANSIM_ENGINE_HASH %sULL\n' "$(VERSION)" \
	  "$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty)" \
	  "$$(cat $(ENGINE_SRC) | cksum | cut -d' ' -f1)" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(BUILD)/%.o: %.c $(wildcard sim/*.h model/*.h results/*.h cli/*.h) $(BUILD)/version.h | $(BUILD)/embed.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Spec files and SQL schema compiled into the binary (no run-time paths).
$(BUILD)/embed.c $(BUILD)/embed.h: sim/embed.sh $(EMBED_IN)
	@mkdir -p $(BUILD)
	$(Q)sh sim/embed.sh $(BUILD)/embed $(EMBED_IN)

$(BUILD)/embed.o: $(BUILD)/embed.c
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libleansim.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/leansim: $(BUILD)/cli/main.o $(BUILD)/libleansim.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $^ -o $@ $(LIBS)

$(BUILD)/tests/%: tests/%.c tests/testhelp.h $(BUILD)/libleansim.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-CC $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libleansim.a -o $@ $(LIBS)

# The CUDA kernels must compile wherever the toolkit is (no GPU needed);
# `make test` builds them too, once (not again in the sanitizer build).
HAVE_NVCC := $(shell test -x $(NVCC) && echo 1)
ifeq ($(HAVE_NVCC)$(SANITIZE),1)
  TEST_KERNELS = kernels
  TEST_REF = $(BUILD)/tests/test_ref
endif

# Every test binary runs from the repository root; one summary line last.
test: $(BUILD)/leansim $(TEST_BIN) $(TEST_KERNELS) $(TEST_REF)
	$(Q)$(if $(HAVE_NVCC),,echo "note: $(NVCC) not found: CUDA kernels and the CPU reference's test not compiled")
	$(Q)sh tests/run.sh $(BUILD) $(TEST_BIN) $(TEST_REF)

$(BUILD)/bench_sim: tests/bench_sim.c $(BUILD)/libleansim.a
	$(Q)$(CC) $(ALL_CFLAGS) $< $(BUILD)/libleansim.a -o $@ $(LIBS)

$(BUILD)/bench_model: tests/bench_model.c $(BUILD)/libleansim.a
	$(Q)$(CC) $(ALL_CFLAGS) $< $(BUILD)/libleansim.a -o $@ $(LIBS)

# Both engines' predictions over a fixed set of configurations, at full
# precision: dump before and after a change that must not move a prediction,
# then `sh tests/cmp_engines.sh OLD NEW`.
$(BUILD)/dump_engines: tests/dump_engines.c $(BUILD)/libleansim.a
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libleansim.a -o $@ $(LIBS)

dump-engines: $(BUILD)/dump_engines
	$(Q)$(BUILD)/dump_engines > $(BUILD)/engines.txt

bench: $(BUILD)/bench_sim $(BUILD)/bench_model $(BUILD)/leansim
	$(Q)$(BUILD)/bench_sim
	$(Q)$(BUILD)/bench_model
	$(Q)LEANSIM=$(BUILD)/leansim sh tests/bench_sweep.sh
	@echo "tune: batch 64, 8 context lengths (1k-2m), one core:"
	$(Q)t0=$$(date +%s.%N); $(BUILD)/leansim tune --batches 64 --ctx 1k,4k,16k,64k,256k,512k,1m,2m > /dev/null && \
	  awk -v a=$$t0 -v b=$$(date +%s.%N) 'BEGIN { printf "  %.3f s\n", b - a }'

# The main job: the default sweep (every schedule, contexts 1k to 512k, on
# the H100 spec, both engines) into the SQLite file results.db, then the
# simulator's table of time and speedup over fa2 at batch 1.
DB ?= results.db
main: $(BUILD)/leansim
	$(Q)$(BUILD)/leansim sweep experiments/default.exp --db $(DB)
	$(Q)for c in 1k 4k 16k 64k 256k 512k; do $(BUILD)/leansim simulate --gpu h100 --ctx $$c || exit 1; done

# Man pages (one per command) and bash completion, generated from the
# binary's --help; `make install PREFIX=... DESTDIR=...` puts them with the
# binary (specs and profiles are compiled in: nothing else to install).
PREFIX ?= /usr/local
BINDIR  = $(DESTDIR)$(PREFIX)/bin
MANDIR  = $(DESTDIR)$(PREFIX)/share/man/man1
COMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
$(BUILD)/man/leansim.1: $(BUILD)/leansim cli/mkdoc.sh
	$(Q)sh cli/mkdoc.sh man $(BUILD)/leansim $(BUILD)/man
$(BUILD)/leansim.bash: $(BUILD)/leansim cli/mkdoc.sh
	$(Q)sh cli/mkdoc.sh completion $(BUILD)/leansim $@
doc: $(BUILD)/man/leansim.1 $(BUILD)/leansim.bash
install: doc
	install -d $(BINDIR) $(MANDIR) $(COMPDIR)
	install -m 755 $(BUILD)/leansim $(BINDIR)/leansim
	install -m 644 $(BUILD)/man/*.1 $(MANDIR)/
	install -m 644 $(BUILD)/leansim.bash $(COMPDIR)/leansim
uninstall:
	rm -f $(BINDIR)/leansim $(MANDIR)/leansim.1 $(MANDIR)/leansim-*.1 $(COMPDIR)/leansim

clean:
	rm -rf build build-san plots/out

-include kernels/kernels.mk
-include plots/plots.mk
