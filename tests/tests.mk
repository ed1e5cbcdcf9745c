# tests/tests.mk: host targets: packages, provisioning, tests, code checks
# (included by the root Makefile).

# Tiers run by `make test`, in this order (fast to slow).  The lab tier
# (`make lab-test`: four seats at once under TCG) is left out of the default
# run until it has passed on an unloaded host within the CI budget; tests/run
# names it as left out.
TEST_TIERS ?= style unit stack bonus check projects image push agent vm remote e2e
FUZZ_SECONDS ?= 60

.PHONY: deps test-deps vm vm-destroy test style-test unit stack-test bonus-test check-test projects-test push-test agent-test image-test vm-test remote-test lab-test e2e fuzz fmt lint bench help

## deps: install the Debian packages the host needs (only the missing ones)
deps:
	@provisioner/deps.sh

## test-deps: install what the test tiers need (only the missing ones; every test target runs it)
test-deps:
	@provisioner/deps.sh test

## vm: install what is missing, build, and bring the VM up with the stack
vm: deps build
	$(BUILD)/inception up

## vm-destroy: remove the VM, its volumes and its state (keeps the image cache)
vm-destroy: build
	$(BUILD)/inception destroy

## test: every tier but lab (style unit stack bonus check projects image push agent vm remote e2e); ends with "N passed, N failed"
test: test-deps
	@tests/run $(TEST_TIERS)

## style-test: make lint, check-format and check-shell as a tier
style-test: test-deps
	@tests/run style

## unit: cmocka unit tests under ASan/UBSan, then under valgrind
unit: test-deps
	@tests/run unit

## stack-test: the Inception stack on a real dockerd
stack-test: test-deps
	@tests/run stack

## bonus-test: the bonus services (redis, ftp, site, adminer, backup) on a real dockerd
bonus-test: test-deps
	@tests/run bonus

## check-test: `inception check --local` on violating fixtures and on the stack (real dockerd)
check-test: test-deps
	@tests/run check

## projects-test: the fixture student projects (tests/projects/) built by their own make (real dockerd)
projects-test: test-deps
	@tests/run projects

## push-test: SFTP push against a real sshd on 127.0.0.1
push-test: test-deps
	@tests/run push

## agent-test: the guest agent inside a Debian 13 root (chroot)
agent-test: test-deps
	@tests/run agent

## image-test: build the trixie image (shared with vm-test), downloads from 127.0.0.1
image-test: test-deps
	@tests/run image

## vm-test: a real libvirt VM under TCG up to SSH + cloud-init
vm-test: test-deps
	@tests/run vm

## remote-test: a VM on a qemu+ssh:// libvirt host (an sshd on 127.0.0.1), forward, host keys
remote-test: test-deps
	@tests/run remote

## lab-test: a lab of seats (two VM-only, one with a small stack, one failing) under TCG
lab-test: test-deps
	@tests/run lab

## e2e: bare host to a healthy stack inside a VM
e2e: test-deps
	@tests/run e2e

## fuzz: run every libFuzzer target (tests/fuzz: config, hosts editor, agent events, push
##       manifest, SHA512SUMS, PGP key, vm.state) for FUZZ_SECONDS (default 60) each
fuzz: test-deps fuzz-build
	@set -e; for f in $(FUZZ_BINS); do \
		name=$$(basename $$f); corpus=$(BUILD)/fuzz/corpus-$$name; \
		mkdir -p $$corpus; seeds=tests/fuzz/seeds/$${name#fuzz_}; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		    -artifact_prefix=$(BUILD)/fuzz/$$name- $$corpus $$( [ -d $$seeds ] && echo $$seeds ) \
		    2>$(BUILD)/fuzz/$$name.log || { tail -40 $(BUILD)/fuzz/$$name.log; exit 1; }; \
		tail -1 $(BUILD)/fuzz/$$name.log; \
	done

C_SOURCES = $(wildcard provisioner/*.c provisioner/*.h agent/*.c agent/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c)

## fmt: format the C sources with clang-format (.clang-format)
fmt:
	clang-format -i $(C_SOURCES)

## lint: cppcheck and clang-tidy on our C code
lint: test-deps
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -Iprovisioner -Iagent provisioner agent
	clang-tidy --quiet $(filter %.c,$(C_SOURCES)) -- $(PROV_CFLAGS) -Iagent

## bench: benchmark scripts (print figures, assert nothing)
bench:
	@provisioner/deps.sh bench
	@for b in tests/bench/*/run; do [ -x $$b ] && $$b; done; true

## help: list the targets
help:
	@echo "42 stack: all (default), up, down, stop, start, ps, logs, clean, fclean, re"
	@grep -h '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

# ---------------------------------------------------------------------------
# check-style: lint, clang-format and shellcheck (no file is changed)
# ---------------------------------------------------------------------------
# Our shell scripts: every *.sh and every file that starts with a sh/bash
# shebang (tier scripts are named `run`), plus the generated completion.
SHELL_SCRIPTS = $(sort $(shell find .ci agent provisioner srcs tests -type f -name '*.sh') \
	$(shell find .ci agent provisioner srcs tests -type f ! -name '*.*' -exec awk \
	'FNR == 1 && /^.!(\/usr)?\/bin\/(env )?(ba|da)?sh/ { print FILENAME } { nextfile }' {} +))

.PHONY: check-style check-format check-shell
## check-style: make lint, clang-format --dry-run -Werror on our C, shellcheck on our scripts
check-style: lint check-format check-shell

## check-format: clang-format --dry-run -Werror on our C sources (`make fmt` fixes them)
check-format:
	clang-format --dry-run -Werror $(C_SOURCES)

## check-shell: shellcheck on our shell scripts and the generated bash completion
check-shell: $(BUILD)/inception.bash
	shellcheck -x $(SHELL_SCRIPTS)
	shellcheck -s bash $(BUILD)/inception.bash
