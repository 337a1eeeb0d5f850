# Thin wrapper over meson: the targets everyone uses.
#   make demo   set up, build, run svcdp on a namespace topology and show traffic
#   make test   set up, build, run every test suite (unit, pipeline,
#               integration, perf smoke, and a short run of each fuzzer)
BUILD        ?= build
FUZZ_BUILD   ?= build-fuzz
BUILDTYPE    ?= release
WERROR       ?= true
SANITIZE     ?= none
SUITES       ?= unit,pipeline,integration,perf
FUZZ_SECONDS ?= 20

.PHONY: all deps build fuzz-build test unit fuzz demo bench asan clean

all: build

# Idempotent: installs only what is missing.
deps:
	@missing=$$(grep -v '^#' conf/debian-packages.txt | xargs -n1 sh -c \
	    'dpkg-query -W -f="\$${Status}\n" "$$0" 2>/dev/null | grep -q "install ok installed" || echo "$$0"'); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing" $$missing "(apt's output: /tmp/svcdp-deps.log)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
	        >/tmp/svcdp-deps.log 2>&1 || { tail -20 /tmp/svcdp-deps.log; exit 1; }; \
	else echo "make deps: all packages present"; fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=$(BUILDTYPE) -Dwerror=$(WERROR) -Db_sanitize=$(SANITIZE)

# libFuzzer targets: clang, everything instrumented with ASan/UBSan.
$(FUZZ_BUILD)/build.ninja:
	CXX=clang++ meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=disabled -Dbenchmarks=disabled \
	    --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dwerror=$(WERROR) -Dfuzz_seconds=$(FUZZ_SECONDS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

test: build fuzz-build
	bash tests/run-suites.sh $(BUILD):$(SUITES) $(FUZZ_BUILD):fuzz

unit: build
	bash tests/run-suites.sh $(BUILD):unit

fuzz: fuzz-build
	bash tests/run-suites.sh $(FUZZ_BUILD):fuzz

demo: build
	bash conf/demo/demo.sh $(BUILD)/svcdp

bench: build
	bash perf/run-bench.sh $(BUILD)

# Address and undefined-behaviour sanitizers over the unit and pipeline suites.
asan:
	$(MAKE) build BUILD=build-asan BUILDTYPE=debug SANITIZE=address,undefined
	bash tests/run-suites.sh build-asan:unit,pipeline

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) build-asan
