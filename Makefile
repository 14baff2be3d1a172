# make            build the library, the CLI, the unit tests and the module
# make test       unit tests, then end-to-end tests against the stock nginx
#                 (and against the real step-ca 0.19 built from Debian's sources)
# make demo       a CA on 127.0.0.1 with the embedded store, one certificate
# make fleet      Redis, two CA nodes and an L4 balancer on 127.0.0.1 (docs/fleet.md)
# make bench      the benchmark (bench/README.md): prints the results table
# make deps       install the Debian packages the build and tests need
# make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each; see fuzz/README.md
# make deb        Debian packages libnginx-mod-http-stepca and stepca into $(BUILD)/deb
BUILD   ?= build
JOBS    ?= $(shell nproc)
PYTHON  ?= /usr/bin/python3
NGX_SRC ?= /usr/share/nginx/src

.PHONY: all deps lib module smallstep db-export test unit e2e e2e-asan demo demo-stop clean bench fleet fleet-stop deb

all: lib module

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

lib: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The module needs only the library archive, not the CLI or the unit tests.
module: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS) --target stepca_authority
	@scripts/build-module.sh $(BUILD)

unit: lib
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

e2e: module
	STEPCA_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q t/

# The end-to-end suite with the library and the module under AddressSanitizer,
# loaded into the stock nginx with libasan preloaded.
ASAN_BUILD ?= $(BUILD)/asan
e2e-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEPCA_ASAN=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS) --target stepca_authority
	STEPCA_MODULE_CC_OPT="-fsanitize=address -fno-omit-frame-pointer" \
	  scripts/build-module.sh $(ASAN_BUILD)
	STEPCA_NGINX_PRELOAD=$$(gcc -print-file-name=libasan.so) \
	  STEPCA_BUILD=$(abspath $(ASAN_BUILD)) $(PYTHON) -m pytest -q t/

# The real step-ca 0.19 (and a client on smallstep's Go client library),
# built from Debian's Go sources, for the compatibility tests.
smallstep:
	@scripts/build-smallstep.sh

# The reader of step-ca's database that `stepca migrate` runs (Go, built the
# same way, outside the module).
db-export:
	@scripts/build-db-export.sh $(abspath $(BUILD))

test: deps
	$(MAKE) all
	$(MAKE) smallstep
	$(MAKE) db-export
	$(MAKE) unit
	STEPCA_REQUIRE_SMALLSTEP=1 $(MAKE) e2e

demo: deps
	$(MAKE) all
	@scripts/demo.sh

bench: module
	cmake --build $(BUILD) -j$(JOBS) --target stepca stepca_bench && STEPCA_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

fleet: deps
	$(MAKE) all
	@STEPCA_BUILD=$(abspath $(BUILD)) scripts/fleet.sh start

fleet-stop:
	@STEPCA_BUILD=$(abspath $(BUILD)) scripts/fleet.sh stop

# The Debian packages (debian/), built from a copy of the tree; lintian checks them.
deb: deps
	JOBS=$(JOBS) scripts/build-deb.sh $(BUILD)/deb

demo-stop:
	@scripts/demo.sh stop

clean:
	rm -rf $(BUILD)

# Fuzzing is not part of make test: clang, ASan+UBSan, in $(BUILD)/fuzz.
.PHONY: fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_BUILD=$(BUILD)/fuzz fuzz/run.sh
