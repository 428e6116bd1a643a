# The two commands of the README: `make run` and `make test`.
PORT ?= 5000
HOST ?= 0.0.0.0

.PHONY: run test demo i18n bench screenshots

run:
	@scripts/system-deps.sh runtime
	@scripts/bootstrap.sh requirements.txt
	.venv/bin/python app.py --host $(HOST) --port $(PORT)

test:
	@scripts/system-deps.sh
	@scripts/bootstrap.sh requirements-dev.txt
	.venv/bin/python -m pytest $(PYTEST_ARGS)

demo:
	@scripts/bootstrap.sh requirements.txt
	.venv/bin/flask --app app demo

i18n:
	@scripts/bootstrap.sh requirements-dev.txt
	scripts/i18n.sh

bench:
	@scripts/bootstrap.sh requirements-dev.txt
	.venv/bin/python bench/push_fanout.py
	.venv/bin/python bench/vote_tally.py
	.venv/bin/python bench/exports.py
	.venv/bin/python bench/vote_latency.py --participants 500 --votes 500 --duration 5 --json
	.venv/bin/python bench/vote_latency.py --participants 1000 --votes 500 --duration 5 --json
	.venv/bin/python bench/join_storm.py --joins 500 --duration 10 --json

screenshots:
	@scripts/system-deps.sh
	@scripts/bootstrap.sh requirements-dev.txt
	SCREENSHOTS_DIR=docs .venv/bin/python -m pytest tests/test_browser.py tests/test_browser_vote.py tests/test_browser_build.py -q
	SCREENSHOTS_DIR=docs/screens .venv/bin/python -m pytest tests/test_browser_flows.py -q
