# Thin wrapper over meson: the targets everyone uses.
#   make demo   set up, build, run svcdp on a namespace topology and show traffic
#   make test   set up, build, run every test suite
BUILD     ?= build
BUILDTYPE ?= release
WERROR    ?= true
SUITES    ?= unit pipeline integration
SANITIZE  ?= none

MESON_SETUP = meson setup $(BUILD) --buildtype=$(BUILDTYPE) -Dwerror=$(WERROR) -Db_sanitize=$(SANITIZE)

.PHONY: all deps build test unit demo bench asan clean

all: build

# Idempotent: installs only what is missing.
deps:
	@missing=$$(grep -v '^#' conf/debian-packages.txt | xargs -n1 sh -c \
	    'dpkg-query -W -f="\$${Status}\n" "$$0" 2>/dev/null | grep -q "install ok installed" || echo "$$0"'); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all packages present"; fi

$(BUILD)/build.ninja:
	$(MESON_SETUP)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: build
	bash tests/run-suites.sh $(BUILD) $(SUITES)

unit: build
	bash tests/run-suites.sh $(BUILD) unit

demo: build
	bash conf/demo/demo.sh $(BUILD)/svcdp

bench: build
	bash perf/run-bench.sh $(BUILD)

# Address and undefined-behaviour sanitizers in a separate tree.
asan:
	$(MAKE) test BUILD=build-asan BUILDTYPE=debug SANITIZE=address,undefined SUITES="unit pipeline"

clean:
	rm -rf $(BUILD) build-asan
