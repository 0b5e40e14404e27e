# RetinaGrade: `make demo` runs the main job (protocols/demo.yaml) on a generated phantom study,
# `make test` runs the tests.
# Both run `make setup` first (Debian packages and PixelMed into the local Maven repository).

MVNW := ./mvnw -B -q
APP := target/quarkus-app/quarkus-run.jar
DEMO_DIR := target/demo

.PHONY: setup build test demo clean

setup:
	@bin/setup

build: setup
	$(MVNW) package -DskipTests

test: setup
	./mvnw -B test

demo: build
	rm -rf $(DEMO_DIR)
	bin/retinagrade phantom --out $(DEMO_DIR)/phantom --per-grade 40 --seed 2026 --height 320
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade run protocols/demo.yaml
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade cohort show demo
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade runs
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade audit verify

clean:
	$(MVNW) clean
