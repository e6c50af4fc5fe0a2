.PHONY: setup demo test bench lint clean

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

lint: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/mypy --strict src

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
