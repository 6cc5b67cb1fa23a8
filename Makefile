# Meander developer commands. `make help` lists them.
#
#   make build         swift build (everything, tests included)
#   make test          the full run: unit suite on SQLite and PostgreSQL, smoke checks, API fuzzing
#   make test-sqlite   unit suite on SQLite only        make test-postgres  ... on PostgreSQL only
#   make smoke         end-to-end CLI checks            make fuzz           schemathesis against a live server
#   make run           serve on 127.0.0.1:8080          make demo           migrate, seed if empty, serve
#   make format        rewrite sources with swift-format   make lint        check formatting (strict)
#   make golden        re-record the API's golden JSON files (Tests/MeanderTests/Golden/files), then review the diff
#   make bench         run scripts/bench* if there are any
#   make clean-data    delete the local data directory (MEANDER_DATA_DIR, default ./.meander)

SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT ?= swift
MEANDER_DATA_DIR ?= .meander
FORMAT_PATHS := Sources Tests Benchmarks Package.swift
LINT_PATHS := Sources Tests Benchmarks

.PHONY: help build test test-sqlite test-postgres smoke fuzz golden run demo format lint bench clean-data

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

build: ## swift build, tests included
	$(SWIFT) build --build-tests

test: ## full run: SQLite + PostgreSQL unit suites, smoke, API fuzz (scripts/test)
	scripts/test

test-sqlite: ## unit suite on SQLite
	scripts/test sqlite

test-postgres: ## unit suite on a throwaway PostgreSQL 15
	scripts/test postgres

smoke: ## end-to-end CLI checks (scripts/smoke)
	scripts/smoke

fuzz: ## schemathesis against a seeded live server (scripts/api-fuzz)
	scripts/api-fuzz

golden: ## re-record the golden API responses (Tests/MeanderTests/Golden/files); review the diff before committing
	MEANDER_GOLDEN_RECORD=1 $(SWIFT) test --filter WireFormatGoldenTests

run: ## serve on 127.0.0.1:8080 (SQLite in MEANDER_DATA_DIR, default ./.meander, unless DATABASE_URL is set)
	$(SWIFT) run meander serve

demo: ## migrate, seed if empty and serve
	$(SWIFT) run meander demo

format: ## rewrite Swift sources in place with swift-format (.swift-format)
	$(SWIFT) format -i -r $(FORMAT_PATHS)

lint: ## check formatting without changing files
	$(SWIFT) format lint -r --strict $(LINT_PATHS)

bench: ## run the benchmark scripts (scripts/bench*), if any exist
	@shopt -s nullglob; found=0; \
	for b in scripts/bench*; do \
	    if [[ -f "$$b" && -x "$$b" ]]; then found=1; echo "== $$b =="; "$$b"; \
	    elif [[ -f "$$b" ]]; then echo "skipping $$b: not executable (chmod +x it)"; fi; \
	done; \
	if [[ $$found == 0 ]]; then echo "no benchmarks yet: add an executable scripts/bench* to measure something"; fi

clean-data: ## delete the local data directory (the default SQLite database)
	rm -rf -- "$(MEANDER_DATA_DIR)"
