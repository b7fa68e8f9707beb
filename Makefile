# Cinnabar: `make run` starts a one-validator dev ledger; `make test` runs every test.
SHELL := /bin/bash
# What the node needs to build and run.
DEBS := librocksdb-dev libsodium-dev libssl-dev libqrencode-dev pkg-config
# What the tests add: chromium, chromium-driver and the CJK, Tibetan and Yi fonts for the
# verification page's browser tests, wrk for the HTTP benchmarks, iproute2 (ip netns) for the partition tests.
TEST_DEBS := chromium chromium-driver fonts-wqy-microhei fonts-tibetan-machine fonts-sil-nuosusil wrk iproute2
DATA ?= data/dev
LISTEN ?= 127.0.0.1:8080
SWIFT_BUILD_FLAGS ?=
PACKAGES ?= $(DEBS)

CONSORTIUM ?= data/consortium

.PHONY: run run-consortium test deps test-deps build release bench schemas docker-rehearsal clean

# Install the Debian packages that are missing (needs root or sudo).
deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

test-deps: PACKAGES = $(DEBS) $(TEST_DEBS)
test-deps: deps
	@python3 -c 'import jsonschema, yaml, openapi_spec_validator, schemathesis' 2>/dev/null || \
	  python3 -m pip install -q jsonschema pyyaml openapi-spec-validator schemathesis

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

release: deps
	swift build -c release $(SWIFT_BUILD_FLAGS)

# A one-validator ledger in $(DATA), created with demo records on first run, served on $(LISTEN).
run: release
	@if [ ! -f $(DATA)/genesis.json ]; then \
	  .build/release/cinnabar dev init --dir $(DATA) --listen $(LISTEN) && \
	  .build/release/cinnabar dev demo --dir $(DATA); \
	fi
	.build/release/cinnabar node --dir $(DATA) --listen $(LISTEN)

# Four validators (notary office, forensic lab, court, justice bureau) as four processes on
# loopback, APIs on 127.0.0.1:8081…8084, demo records on first run.
run-consortium: release
	scripts/run-consortium.sh .build/release/cinnabar $(CONSORTIUM)

test: test-deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build $(SWIFT_BUILD_FLAGS)

# The docker files carried out without a Docker engine (none runs here): each Dockerfile stage in a
# debootstrapped bookworm root, then the compose consortium in the image's root, exercised with
# the image's own cinnabar. Needs root; about 10 minutes (a full release build inside the build stage).
docker-rehearsal: PACKAGES = debootstrap
docker-rehearsal: deps
	@python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q pyyaml
	python3 Tests/Tools/docker_rehearsal.py . .build-docker

bench: release
	.build/release/cinnabar bench append
	.build/release/cinnabar bench ingest
	.build/release/cinnabar bench proof

# Regenerate the published record schemas after changing Sources/Records/Model/RecordSchemas.swift.
schemas: build
	.build/debug/cinnabar schemas --out Specs/records

clean:
	rm -rf .build data
