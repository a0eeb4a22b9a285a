# Makefile - Concurrency Lab (GNU Make, non-recursive, out-of-tree into build/).
#
#   make                 build every lab: labs/NN-name/*.c + build/libcommon.a -> build/labNN
#   make lab-3           build lab 3 and run its guided demo (also lab-03); ARGS="money --mode=lock";
#                        the last line says what the exit status means; only a real failure fails make
#   make help            the labs, one line each (read from each lab's README title)
#   make test            the graded checks: unit tests, Bats suites, Valgrind; ends "N passed, N failed"
#   make test-lab-3      one lab's Bats file
#   make memcheck        Valgrind memcheck on every lab's guided demo
#   make grade           points per test, Score: x/y, reports in build/grade/ (grade-lab-3: one lab)
#   make bench           each lab's benchmark table (report only, never part of test)
#   make teeth           the planted bugs of tests/mutations/: each must be caught (minutes; not in test)
#   make tsan | asan     sanitizer builds in build/tsan/ and build/asan/
#   make clean           remove build/
#   V=1 shows the commands; CC=clang works; your CFLAGS come last.

BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
SAN      ?=
# Required flags, kept apart from the user's CFLAGS (which come last and may override -O).
LAB_CPPFLAGS := -Icommon -D_GNU_SOURCE -MMD -MP
LAB_CFLAGS   := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -pthread $(SAN)
LAB_LDFLAGS  := -pthread $(SAN)
LAB_LDLIBS   := -lrt -lm

Q := $(if $(filter 1,$(V)),,@)
say = $(if $(Q),@printf '  %-4s %s\n' $(1) $(2))

LAB_DIRS := $(sort $(wildcard labs/[0-9][0-9]-*))
lab_nn    = $(firstword $(subst -, ,$(notdir $(1))))
LAB_NNS  := $(foreach d,$(LAB_DIRS),$(call lab_nn,$(d)))
LAB_BINS := $(foreach n,$(LAB_NNS),$(BUILD)/lab$(n))

LIB_SRCS := $(wildcard common/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libcommon.a
UNIT     := $(BUILD)/unit_common
# A lab's sources: its .c files, and .S files (assembly, run through the C preprocessor).
lab_srcs  = $(wildcard $(1)/*.c) $(wildcard $(1)/*.S)
lab_objs  = $(patsubst %,$(BUILD)/obj/%.o,$(basename $(call lab_srcs,$(1))))
ALL_OBJS := $(LIB_OBJS) $(foreach d,$(LAB_DIRS),$(call lab_objs,$(d))) \
            $(BUILD)/obj/tests/unit_common.o

.PHONY: all help test memcheck grade bench teeth soak tsan asan asan-unit clean unit
.DEFAULT_GOAL := all

all: $(LAB_BINS) $(UNIT)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(LAB_CPPFLAGS) $(CPPFLAGS) $(LAB_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(@D)
	$(call say,AS,$@)
	$(Q)$(CC) $(LAB_CPPFLAGS) $(CPPFLAGS) $(SAN) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(UNIT): $(BUILD)/obj/tests/unit_common.o $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LAB_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LAB_LDLIBS) $(LDLIBS)

# One link rule and one set of convenience targets per lab directory.
define LAB_RULES
$(BUILD)/lab$(1): $(call lab_objs,$(2)) $(LIB)
	$$(call say,LD,$$@)
	$(Q)$$(CC) $$(LAB_LDFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LAB_LDLIBS) $$(LDLIBS)
.PHONY: $(sort lab-$(1) lab-$(patsubst 0%,%,$(1)) test-lab-$(1) test-lab-$(patsubst 0%,%,$(1)) grade-lab-$(1) grade-lab-$(patsubst 0%,%,$(1)))
$(sort lab-$(1) lab-$(patsubst 0%,%,$(1))): $(BUILD)/lab$(1)
	$(Q)st=0; ./$(BUILD)/lab$(1) $$(ARGS) || st=$$$$?; ./$(BUILD)/lab$(1) --explain-exit=$$$$st $$(ARGS)
$(sort test-lab-$(1) test-lab-$(patsubst 0%,%,$(1))):
	$(Q)scripts/deps
	$(Q)$$(MAKE) --no-print-directory $(BUILD)/lab$(1) $(UNIT)
	$(Q)$$(MAKE) --no-print-directory $$(TSAN_VARS) build/tsan/lab$(1)
	$(Q)LAB_DEPS_CHECKED=1 scripts/test --lab $(1)
$(sort grade-lab-$(1) grade-lab-$(patsubst 0%,%,$(1))):
	$(Q)scripts/deps
	$(Q)$$(MAKE) --no-print-directory $(BUILD)/lab$(1) $(UNIT)
	$(Q)$$(MAKE) --no-print-directory $$(TSAN_VARS) build/tsan/lab$(1)
	$(Q)LAB_DEPS_CHECKED=1 scripts/grade --lab $(1)
endef
$(foreach d,$(LAB_DIRS),$(eval $(call LAB_RULES,$(call lab_nn,$(d)),$(d))))

# A lab that is not there (make lab-10): the list of the labs, not "No rule to make target".
lab-% test-lab-% grade-lab-%:
	@echo "make: there is no lab '$*'; the labs are:" >&2
	@$(MAKE) --no-print-directory -s help-labs >&2
	@exit 2

.PHONY: help-labs
help-labs:
	@for d in $(LAB_DIRS); do \
	  n=$$(basename $$d | cut -c1-2); \
	  t=$$(sed -n '1s/^# *//p' $$d/README.md 2>/dev/null); \
	  printf '  make lab-%-3s %s\n' "$$(echo $$n | sed 's/^0//')" "$${t:-$$d}"; \
	done

help:
	@echo 'Concurrency Lab - make targets: all, lab-N [ARGS=...], test, test-lab-N, memcheck, grade,'
	@echo 'grade-lab-N, bench, tsan, asan, clean, help.  The labs:'
	@$(MAKE) --no-print-directory -s help-labs

unit: $(UNIT)

# The checks build in parallel, one job per CPU (the dependency graph is whole: -MMD, no recursion
# into labs), which halves the build on two cores.
JOBS := -j$(shell nproc 2>/dev/null || echo 2)

# The tools first (valgrind also brings the headers a lab's Helgrind annotations need), then build;
# scripts/deps runs once (LAB_DEPS_CHECKED tells scripts/test it ran).
test:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all tsan
	$(Q)LAB_DEPS_CHECKED=1 scripts/test

memcheck:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all
	$(Q)scripts/memcheck

grade:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all tsan
	$(Q)LAB_DEPS_CHECKED=1 scripts/grade

# The planted bugs (tests/mutations/*.patch), each in a scratch copy of the tree; not part of test.
teeth:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory $(JOBS) all tsan
	$(Q)LAB_DEPS_CHECKED=1 scripts/mutate

# The checks many times in a row: plain, pinned to one CPU, beside two CPU hogs (ARGS="--runs 5").
soak:
	$(Q)scripts/soak $(ARGS)

# The bench brings what it compares with first (scripts/deps --bench), then builds again: the
# comparison programs are built only when their packages are there.
bench:
	$(Q)scripts/deps --bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/bench

TSAN_VARS := BUILD=build/tsan CFLAGS='-O1 -g' SAN='-fsanitize=thread'
tsan:
	$(Q)$(MAKE) --no-print-directory $(TSAN_VARS) all

ASAN_VARS := BUILD=build/asan CFLAGS='-O1 -g -fno-omit-frame-pointer' SAN='-fsanitize=address,undefined'
asan:
	$(Q)$(MAKE) --no-print-directory $(ASAN_VARS) all

# The unit tests of common/ alone under ASan (what `make test` runs: every lab's build is `make asan`).
asan-unit:
	$(Q)$(MAKE) --no-print-directory $(ASAN_VARS) build/asan/unit_common

clean:
	rm -rf build

-include $(ALL_OBJS:.o=.d)

# ---- lab 10: bench helpers ----
# build/lab10-glib: GLib's GThreadPool on the trivial tasks of `build/lab10 --bench`, a separate
# program (lab10 never links GLib).  Built by `all` only when `pkg-config glib-2.0` works (Debian:
# libglib2.0-dev); without it the bench says how to get it.
L10_GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0 2>/dev/null)
L10_GLIB_LIBS   := $(shell pkg-config --libs glib-2.0 2>/dev/null)
ifneq ($(L10_GLIB_LIBS),)
all: $(BUILD)/lab10-glib
$(BUILD)/lab10-glib: labs/10-pools/glib/bench_glib.c
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(L10_GLIB_CFLAGS) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $< $(L10_GLIB_LIBS)
endif
# ---- end of lab 10: bench helpers ----

# ---- lab 11: bench helper (Boost.Context fcontext) and the aarch64 cross-check ----
# build/lab11-fcontext times Boost.Context's jump_fcontext for `lab11 --bench` (make bench).  It is
# built only when Debian's libboost-context-dev is installed (the bench prints a line saying so when
# it is missing), never in a sanitizer build, and it is never linked into build/lab11.
L11_DIR      := labs/11-coroutines
L11_FCONTEXT := $(BUILD)/lab11-fcontext
ifeq ($(SAN),)
ifneq ($(wildcard /usr/include/boost/context/detail/fcontext.hpp),)
all: $(L11_FCONTEXT)
$(L11_FCONTEXT): $(L11_DIR)/bench/fcontext.c
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o $@ $< -lboost_context
endif
endif

# make cross-check: the unit test of the context switch (labs/11-coroutines/cross/swtch_test.c),
# natively and for aarch64 under qemu-user (Debian: gcc-aarch64-linux-gnu, qemu-user).  Without
# those tools it says so and fails; `make test` runs it only when they are installed.
L11_XCC   ?= aarch64-linux-gnu-gcc
L11_QEMU  ?= qemu-aarch64
L11_CROSS := $(BUILD)/cross/swtch_test_aarch64
L11_NATIVE_SWTCH := $(BUILD)/cross/swtch_test_native
.PHONY: cross-check
cross-check:
	@mkdir -p $(BUILD)/cross
	$(call say,CC,$(L11_NATIVE_SWTCH))
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $(L11_NATIVE_SWTCH) $(L11_DIR)/cross/swtch_test.c \
	  $(L11_DIR)/swtch_x86_64.S $(L11_DIR)/swtch_aarch64.S
	$(Q)$(L11_NATIVE_SWTCH)
	@if ! command -v $(L11_XCC) >/dev/null 2>&1 || ! command -v $(L11_QEMU) >/dev/null 2>&1; then \
	  echo "cross-check: aarch64 NOT checked: needs $(L11_XCC) and $(L11_QEMU)" \
	       "(Debian: apt-get install gcc-aarch64-linux-gnu qemu-user)"; exit 1; fi
	$(call say,XCC,$(L11_CROSS))
	$(Q)$(L11_XCC) -std=c11 -O2 -static -Wall -Wextra -Werror -o $(L11_CROSS) $(L11_DIR)/cross/swtch_test.c \
	  $(L11_DIR)/swtch_aarch64.S
	$(Q)$(L11_QEMU) $(L11_CROSS)
ifneq ($(shell command -v $(L11_XCC) 2>/dev/null),)
ifneq ($(shell command -v $(L11_QEMU) 2>/dev/null),)
test: cross-check
endif
endif

# ---- lab 12: bench helpers ----
# The libuv echo server the lab's epoll server is compared with (`build/lab12 --bench`).  Built only
# when pkg-config finds libuv (Debian libuv1-dev); nginx and wrk are run by the bench, not built.
L12_UV := $(shell pkg-config --exists libuv 2>/dev/null && echo yes)
ifeq ($(L12_UV),yes)
all: $(BUILD)/l12_uv_echo
$(BUILD)/lab12: | $(BUILD)/l12_uv_echo
$(BUILD)/l12_uv_echo: labs/12-select-epoll/uv/uv_echo.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -o $@ $< $(shell pkg-config --cflags --libs libuv)
endif

# ---- issue 16: editors (compile_commands.json), traces (trace-lab-N), handouts (handout) ----
# make compile_commands.json   the compilation database for clangd and other editors, written from
#                              this Makefile's own flags (no bear, no compiledb): one entry per .c
#                              file, the same command the pattern rule above runs.
CDB_SRCS := $(LIB_SRCS) $(foreach d,$(LAB_DIRS),$(wildcard $(d)/*.c)) tests/unit_common.c
CDB_CMD   = $(CC) $(LAB_CPPFLAGS) $(CPPFLAGS) $(LAB_CFLAGS) $(CFLAGS)
.PHONY: compile_commands.json
compile_commands.json:
	$(call say,GEN,$@)
	$(Q){ sep='['; for f in $(CDB_SRCS); do \
	    o="$(BUILD)/obj/$${f%.c}.o"; \
	    printf '%s\n  {"directory": "%s", "file": "%s", "output": "%s",\n   "command": "%s -c -o %s %s"}' \
	      "$$sep" "$(CURDIR)" "$$f" "$$o" '$(subst ",\",$(subst ','\'',$(CDB_CMD)))' "$$o" "$$f"; \
	    sep=','; done; printf '\n]\n'; } >$@.tmp && mv $@.tmp $@

# make trace-lab-N    run lab N's guided demo (or ARGS="scenario --mode=x") with --trace, writing
#                     build/trace/labNN.json: open it in https://ui.perfetto.dev or chrome://tracing.
TRACE_DIR := $(BUILD)/trace
define TRACE_RULES
.PHONY: $(sort trace-lab-$(1) trace-lab-$(patsubst 0%,%,$(1)))
$(sort trace-lab-$(1) trace-lab-$(patsubst 0%,%,$(1))): $(BUILD)/lab$(1)
	@mkdir -p $(TRACE_DIR)
	$(Q)$(abspath $(BUILD))/lab$(1) --trace $(TRACE_DIR)/lab$(1).json $$(ARGS); rc=$$$$?; \
	  echo "trace: $(TRACE_DIR)/lab$(1).json (open it in https://ui.perfetto.dev or chrome://tracing)"; exit $$$$rc
endef
$(foreach n,$(LAB_NNS),$(eval $(call TRACE_RULES,$(n))))

# make handout        the students' tree in build/handout/ (scripts/handout: the regions between
#                     SOLUTION BEGIN/END markers become TODO lines with their hints).
# make handout-teeth  each exercise cut out alone must make its lab's checks fail, and the whole
#                     handout builds warning-free and its demos run (minutes: part of make teeth).
.PHONY: handout handout-teeth
handout:
	$(Q)scripts/handout --out $(BUILD)/handout
handout-teeth: all
	$(Q)scripts/handout --teeth
teeth: handout-teeth
