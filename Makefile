# Makefile - Concurrency Lab (GNU Make, non-recursive, out-of-tree into build/).
#
#   make                 build every lab: labs/NN-name/*.c + build/libcommon.a -> build/labNN
#   make lab-3           build lab 3 and run its guided demo (also lab-03); ARGS="money --mode=lock"
#   make help            the labs, one line each (read from each lab's README title)
#   make test            the graded checks: unit tests, Bats suites, Valgrind; ends "N passed, N failed"
#   make test-lab-3      one lab's Bats file
#   make memcheck        Valgrind memcheck on every lab's guided demo
#   make grade           points per test, Score: x/y, reports in build/grade/ (grade-lab-3: one lab)
#   make bench           each lab's benchmark table (report only, never part of test)
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

.PHONY: all help test memcheck grade bench tsan asan clean unit
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
	$(Q)./$(BUILD)/lab$(1) $$(ARGS)
$(sort test-lab-$(1) test-lab-$(patsubst 0%,%,$(1))):
	$(Q)scripts/deps
	$(Q)$$(MAKE) --no-print-directory $(BUILD)/lab$(1) $(UNIT)
	$(Q)$$(MAKE) --no-print-directory $$(TSAN_VARS) build/tsan/lab$(1)
	$(Q)scripts/test --lab $(1)
$(sort grade-lab-$(1) grade-lab-$(patsubst 0%,%,$(1))):
	$(Q)scripts/deps
	$(Q)$$(MAKE) --no-print-directory $(BUILD)/lab$(1) $(UNIT)
	$(Q)$$(MAKE) --no-print-directory $$(TSAN_VARS) build/tsan/lab$(1)
	$(Q)scripts/grade --lab $(1)
endef
$(foreach d,$(LAB_DIRS),$(eval $(call LAB_RULES,$(call lab_nn,$(d)),$(d))))

help:
	@echo 'Concurrency Lab - make targets: all, lab-N [ARGS=...], test, test-lab-N, memcheck, grade,'
	@echo 'grade-lab-N, bench, tsan, asan, clean, help.  The labs:'
	@for d in $(LAB_DIRS); do \
	  n=$$(basename $$d | cut -c1-2); \
	  t=$$(sed -n '1s/^# *//p' $$d/README.md 2>/dev/null); \
	  printf '  make lab-%-3s %s\n' "$$(echo $$n | sed 's/^0//')" "$${t:-$$d}"; \
	done

unit: $(UNIT)

# The tools first (valgrind also brings the headers a lab's Helgrind annotations need), then build.
test:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all tsan
	$(Q)scripts/test

memcheck:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/memcheck

grade:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all tsan
	$(Q)scripts/grade

bench: all
	$(Q)scripts/bench

TSAN_VARS := BUILD=build/tsan CFLAGS='-O1 -g' SAN='-fsanitize=thread'
tsan:
	$(Q)$(MAKE) --no-print-directory $(TSAN_VARS) all

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	  SAN='-fsanitize=address,undefined' all

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
