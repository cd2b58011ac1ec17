# flowent-gateway: its own program (DESIGN §10); `make gateway`, `make gateway-asan`.
GW_VERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" flowent.control)
GW_SRCS = $(sort $(wildcard src/gateway/*.c))
GW_HDRS = $(wildcard src/gateway/*.h)
GW_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-D_GNU_SOURCE -Isrc -I$(shell $(PG_CONFIG) --includedir) -DGW_VERSION='"$(GW_VERSION)"'
GW_LIBS = -L$(shell $(PG_CONFIG) --libdir) -lpq -lmicrohttpd -ljansson -lwslay -lcrypto

gateway: src/gateway/flowent-gateway
src/gateway/flowent-gateway: $(GW_SRCS) $(GW_HDRS) flowent.control src/gateway/gateway.mk
	$(CC) $(GW_CFLAGS) -o $@ $(GW_SRCS) $(GW_LIBS)

gateway-asan: src/gateway/flowent-gateway-asan
src/gateway/flowent-gateway-asan: $(GW_SRCS) $(GW_HDRS) flowent.control src/gateway/gateway.mk
	$(CC) $(GW_CFLAGS) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
		-o $@ $(GW_SRCS) $(GW_LIBS)

.PHONY: gateway gateway-asan

# the gateway's pure parts, alone: unit tests and a libFuzzer target
GW_PURE = src/gateway/signature.c src/gateway/errors.c src/gateway/util.c src/gateway/ratelimit.c src/gateway/path.c \
	src/gateway/hook_secrets.c src/gateway/answers.c
test/gateway/unit_gateway.bin: test/gateway/unit_gateway.c $(GW_PURE) $(GW_HDRS)
	$(CC) -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Itest/unit $(UNIT_SANITIZE) -o $@ $< $(GW_PURE) -ljansson -lcrypto
gateway-unit: test/gateway/unit_gateway.bin
	./test/gateway/unit_gateway.bin

test/fuzz/gwfuzz_signature.bin: test/fuzz/gwfuzz_signature.c src/gateway/signature.c src/gateway/signature.h
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< src/gateway/signature.c -lcrypto
test/fuzz/gwfuzz_path.bin: test/fuzz/gwfuzz_path.c src/gateway/path.c src/gateway/path.h
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< src/gateway/path.c
test/fuzz/gwfuzz_answers.bin: test/fuzz/gwfuzz_answers.c src/gateway/answers.c src/gateway/answers.h src/gateway/util.c
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< src/gateway/answers.c src/gateway/util.c -lcrypto
GW_FUZZ_BINS = test/fuzz/gwfuzz_signature.bin test/fuzz/gwfuzz_path.bin test/fuzz/gwfuzz_answers.bin
gateway-fuzz: $(GW_FUZZ_BINS)
	@set -e -o pipefail; for f in $(GW_FUZZ_BINS); do n=$$(basename $$f .bin); echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  mkdir -p test/fuzz/corpus/$$n; \
	  ./$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 test/fuzz/corpus/$$n test/fuzz/seeds/$$n 2>&1 | tail -3; done

.PHONY: gateway-unit gateway-fuzz
