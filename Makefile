# RetinaGrade: `make demo` runs the main job on a generated phantom study, `make test` runs the tests.
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
	bin/retinagrade phantom --out $(DEMO_DIR)/phantom --per-grade 20 --seed 2026
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade ingest folder $(DEMO_DIR)/phantom --cohort demo --study demo
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade cohort show demo
	RETINAGRADE_WORKSPACE=$(CURDIR)/$(DEMO_DIR)/workspace bin/retinagrade audit verify

clean:
	$(MVNW) clean
