# Inception: the 42 stack (default goal) and the host tooling that builds a
# VM to run it in.  `make` with no target starts the stack, as the 42 rules
# want; `make vm` provisions a VM and runs the stack inside it; `make test`
# runs every test tier.  `make help` lists the targets.

.DEFAULT_GOAL := all

# ---------------------------------------------------------------------------
# 42 stack targets (run on a machine with Docker: the VM, or any host)
# ---------------------------------------------------------------------------
# STACK-SECTION-BEGIN
all:
	@echo "stack: not implemented yet" >&2; exit 2
# STACK-SECTION-END

# ---------------------------------------------------------------------------
# Host side: build the provisioner and the agent, install host packages,
# provision the VM, run the tests.
# ---------------------------------------------------------------------------
include provisioner/build.mk
include tests/tests.mk
