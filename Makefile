# Flowent: PGXS build of the extension, plus unit tests, fuzzers and helpers.
EXTENSION = flowent
EXTVERSION = 0.16
MODULE_big = flowent

CORE_SRCS = $(sort $(wildcard src/core/*.c))
PG_SRCS = $(sort $(wildcard src/pg/*.c) $(wildcard src/nodes/*.c) $(wildcard src/worker/*.c))
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o)

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
# earlier releases' install scripts and the upgrade path from each
DATA = $(sort $(wildcard sql/releases/*.sql))
SQL_PARTS = $(sort $(wildcard sql/parts/*.sql))

TESTS = $(sort $(wildcard test/sql/*.sql))
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=flowent

SHELL = /bin/bash
PG_CONFIG ?= pg_config
PG_CPPFLAGS = -DFL_EXTVERSION='"$(EXTVERSION)"' -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare -Isrc
SHLIB_LINK = -lcurl
EXTRA_CLEAN = test/unit/*.bin test/fuzz/*.bin results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
include src/gateway/gateway.mk

# every object depends on every project header and on the Makefile (EXTVERSION is compiled in)
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*/*.h) Makefile

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# ---- src/core unit tests (no PostgreSQL) ----
UNIT_SRCS = $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS = $(UNIT_SRCS:.c=.bin)
UNIT_CFLAGS = -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Isrc -Itest/unit

test/unit/%.bin: test/unit/%.c $(CORE_SRCS) test/unit/std_alloc.c test/unit/unit.h
	$(CC) $(UNIT_CFLAGS) $(UNIT_SANITIZE) -o $@ $< $(CORE_SRCS) test/unit/std_alloc.c

.PHONY: unit unit-asan unit-valgrind fuzz prove
unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; ./$$t; done

unit-asan:
	rm -f $(UNIT_BINS)
	$(MAKE) unit CC=clang UNIT_SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all"
	rm -f $(UNIT_BINS)

unit-valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; valgrind -q --error-exitcode=1 --leak-check=full ./$$t; done

# ---- libFuzzer targets over src/core, each run for FUZZ_SECONDS ----
FUZZ_SRCS = $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_SRCS:.c=.bin)
FUZZ_SECONDS ?= 20
test/fuzz/%.bin: test/fuzz/%.c $(CORE_SRCS) test/unit/std_alloc.c
	clang -std=gnu11 -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< $(CORE_SRCS) test/unit/std_alloc.c

fuzz: $(FUZZ_BINS)
	@set -e -o pipefail; for f in $(FUZZ_BINS); do echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  mkdir -p test/fuzz/corpus/$$(basename $$f .bin); \
	  ./$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 test/fuzz/corpus/$$(basename $$f .bin) test/fuzz/seeds/$$(basename $$f .bin) 2>&1 | tail -3; done

prove:
	pg_prove --ext .sql -r test/pgtap/

# ---- the web dashboard (web/, issue 12): npm ci from the lockfile, then build web/dist ----
.PHONY: web
web:
	cd web && npm ci --no-audit --no-fund && npm run build
