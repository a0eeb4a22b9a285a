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
ALL_OBJS := $(LIB_OBJS) $(foreach d,$(LAB_DIRS),$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(d)/*.c))) \
            $(BUILD)/obj/tests/unit_common.o

.PHONY: all help test memcheck grade bench teeth tsan asan clean unit
.DEFAULT_GOAL := all

all: $(LAB_BINS) $(UNIT)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(LAB_CPPFLAGS) $(CPPFLAGS) $(LAB_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(UNIT): $(BUILD)/obj/tests/unit_common.o $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LAB_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LAB_LDLIBS) $(LDLIBS)

# One link rule and one set of convenience targets per lab directory.
define LAB_RULES
$(BUILD)/lab$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(2)/*.c)) $(LIB)
	$$(call say,LD,$$@)
	$(Q)$$(CC) $$(LAB_LDFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LAB_LDLIBS) $$(LDLIBS)
.PHONY: lab-$(1) lab-$(patsubst 0%,%,$(1)) test-lab-$(1) test-lab-$(patsubst 0%,%,$(1)) grade-lab-$(1) grade-lab-$(patsubst 0%,%,$(1))
lab-$(1) lab-$(patsubst 0%,%,$(1)): $(BUILD)/lab$(1)
	$(Q)./$(BUILD)/lab$(1) $$(ARGS)
test-lab-$(1) test-lab-$(patsubst 0%,%,$(1)):
	$(Q)scripts/deps
	$(Q)$$(MAKE) --no-print-directory $(BUILD)/lab$(1) $(UNIT)
	$(Q)$$(MAKE) --no-print-directory $$(TSAN_VARS) build/tsan/lab$(1)
	$(Q)LAB_DEPS_CHECKED=1 scripts/test --lab $(1)
grade-lab-$(1) grade-lab-$(patsubst 0%,%,$(1)):
	$(Q)scripts/deps
	$(Q)$$(MAKE) --no-print-directory $(BUILD)/lab$(1) $(UNIT)
	$(Q)$$(MAKE) --no-print-directory $$(TSAN_VARS) build/tsan/lab$(1)
	$(Q)LAB_DEPS_CHECKED=1 scripts/grade --lab $(1)
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

# The tools first (valgrind also brings the headers a lab's Helgrind annotations need), then build;
# scripts/deps runs once (LAB_DEPS_CHECKED tells scripts/test it ran).
test:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all tsan
	$(Q)LAB_DEPS_CHECKED=1 scripts/test

memcheck:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/memcheck

grade:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all tsan
	$(Q)LAB_DEPS_CHECKED=1 scripts/grade

# The planted bugs (tests/mutations/*.patch), each in a scratch copy of the tree; not part of test.
teeth:
	$(Q)scripts/deps
	$(Q)$(MAKE) --no-print-directory all tsan
	$(Q)LAB_DEPS_CHECKED=1 scripts/mutate

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
