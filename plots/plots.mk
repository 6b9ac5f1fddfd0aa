# plots.mk: `make figures` (included by the Makefile).
#
# Builds leansim, refreshes a results database from the committed data
# (ingest the campaign files listed in experiments/data/campaign.txt, run
# the figure sweeps experiments/fig-*.exp,
# validate the measured rows; every step is idempotent, so a re-run only adds
# what is new; a data file that fails to ingest is named in a warning and
# left out), exports each figure's data files and draws them with gnuplot
# (pngcairo and pdfcairo) into plots/out/ (plots/draw.sh: a script gnuplot
# stops on fails the target).  The scripts only draw.

FIG_DB    ?= plots/out/figures.db
FIG_DATA   = plots/out/data
FIGURES    = speedup scatter cdf scaling timeline tuner whatif paper multigpu
FIG_CSV    = $(addprefix experiments/data/,$(shell grep -v '^\#' experiments/data/campaign.txt))
FIG_TIMELINE ?= traces/measured/h100-streamk-b1h32-64k-v4.csv
FIG_EXP    = $(sort $(wildcard experiments/fig-*.exp))
FIG_MGPU  ?= experiments/data/h200x4-20261127-mgpu.csv experiments/data/h100x2-20261127-mgpu.csv

figures: $(BUILD)/leansim
	@mkdir -p plots/out
	$(Q)for f in $(FIG_CSV); do $(BUILD)/leansim ingest $$f --db $(FIG_DB) > /dev/null || \
	  echo "figures: WARNING: $$f not ingested (above); its rows are missing from the figures" >&2; done
	$(Q)for f in $(FIG_EXP); do $(BUILD)/leansim sweep $$f --db $(FIG_DB) > /dev/null || exit 1; done
	$(Q)if [ -n "$(FIG_CSV)" ]; then $(BUILD)/leansim validate --db $(FIG_DB); fi
	$(Q)$(BUILD)/leansim export all --db $(FIG_DB) --out $(FIG_DATA) --timeline $(FIG_TIMELINE)
	$(Q)python3 experiments/multigpu/score.py --leansim $(BUILD)/leansim --dat $(FIG_DATA) $(FIG_MGPU) > $(FIG_DATA)/multigpu-score.txt
	$(Q)GNUPLOT='$(GNUPLOT)' sh plots/draw.sh $(FIG_DATA) plots/out $(FIGURES)
