# provisioner/build.mk: how the C parts are built (included by the root Makefile).
#
#   build/inception          the host CLI        (provisioner/*.c)
#   build/agent              the guest agent     (agent/*.c)
#   build/unit/test_*        cmocka unit tests, ASan+UBSan (tests/unit/test_*.c
#                            link the provisioner modules, tests/unit/agent_test_*.c
#                            the agent modules)
#   build/unit-vg/test_*     the same tests without sanitizers, for valgrind
#   build/fuzz/fuzz_*        libFuzzer targets (tests/fuzz/fuzz_*.c, clang)
#
# Every module is compiled once per flavour into build/<flavour>/; flags for
# the libraries come from pkg-config.

CC       ?= cc
FUZZ_CC  ?= clang
BUILD    := build
PKG_CONFIG ?= pkg-config

PROV_PKGS  := libvirt libvirt-qemu libssh yaml-0.1 libcurl libxml-2.0 libcrypto libssl
AGENT_PKGS := libcurl libcrypto
pkgflags = $(shell $(PKG_CONFIG) --$(1) $(2) 2>/dev/null)

WARN     := -std=c11 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
VERSION  := $(shell git -C $(CURDIR) describe --always --dirty 2>/dev/null || echo 0.1)
DEFS     := -D_DEFAULT_SOURCE -D_GNU_SOURCE -DINCEPTION_VERSION='"$(VERSION)"'
OPT      ?= -O2 -g
DEPFLAGS  = -MMD -MP
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The portable layer both programs build from this one list: agent/lib/
# (err + exit codes, util: files, atomic writes, spawn; the hosts editor).
# It lives under agent/ because the agent's guest-side build
# (agent/build-in-guest.sh) must take everything it links; the provisioner
# includes it, and agent/ never includes provisioner/.
LIB_SRCS    := $(wildcard agent/lib/*.c)
PROV_SRCS   := $(wildcard provisioner/*.c) $(LIB_SRCS)
PROV_LIB    := $(filter-out provisioner/main.c,$(PROV_SRCS))
AGENT_SRCS  := $(wildcard agent/*.c) $(LIB_SRCS)
AGENT_LIB   := $(filter-out agent/main.c,$(AGENT_SRCS))
UNIT_PROV   := $(wildcard tests/unit/test_*.c)
UNIT_AGENT  := $(wildcard tests/unit/agent_test_*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)

PROV_CFLAGS  = $(WARN) $(DEFS) $(OPT) -Iprovisioner -Iagent/lib $(call pkgflags,cflags,$(PROV_PKGS))
PROV_LIBS    = $(call pkgflags,libs,$(PROV_PKGS))
AGENT_CFLAGS = $(WARN) $(DEFS) $(OPT) -Iagent -Iagent/lib $(call pkgflags,cflags,$(AGENT_PKGS))
AGENT_LIBS   = $(call pkgflags,libs,$(AGENT_PKGS))
# The agent runs in the guest (Debian 13), built on the host (any Debian):
# linked dynamically against libc, libcurl.so.4 and libcrypto.so.3 only (all
# in the guest: curl and openssl are in every Debian cloud image), with
# --as-needed so nothing else is recorded.  A host with a newer glibc than
# the guest would break this: tests/agent-compat/run checks the binary in a
# Debian 13 root, and the provisioner builds the agent in the guest when
# `agent --version` does not start there.
AGENT_LDFLAGS = -Wl,--as-needed
CMOCKA_LIBS  = $(call pkgflags,libs,cmocka)

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

.PHONY: build unit-build fuzz-build
build: $(BUILD)/inception $(BUILD)/agent

$(BUILD)/inception: $(call obj,rel,$(PROV_SRCS))
	$(CC) -o $@ $^ $(PROV_LIBS)

$(BUILD)/agent: $(call obj,rel-agent,$(AGENT_SRCS))
	$(CC) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LIBS)

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PROV_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(BUILD)/rel-agent/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(BUILD)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PROV_CFLAGS) -Iagent $(SAN) -O1 $(DEPFLAGS) -c -o $@ $<
$(BUILD)/vg/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PROV_CFLAGS) -Iagent -O0 $(DEPFLAGS) -c -o $@ $<

# Unit tests: one binary per test file, in two flavours.
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_PROV) $(UNIT_AGENT))
VG_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/unit-vg/%,$(UNIT_PROV) $(UNIT_AGENT))
unit-build: $(UNIT_BINS) $(VG_BINS) $(BUILD)/inception $(BUILD)/agent

$(BUILD)/unit/test_%: $(BUILD)/asan/tests/unit/test_%.o $(call obj,asan,$(PROV_LIB))
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(PROV_LIBS) $(CMOCKA_LIBS)
$(BUILD)/unit/agent_test_%: $(BUILD)/asan/tests/unit/agent_test_%.o $(call obj,asan,$(AGENT_LIB))
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(AGENT_LIBS) $(CMOCKA_LIBS)
$(BUILD)/unit-vg/test_%: $(BUILD)/vg/tests/unit/test_%.o $(call obj,vg,$(PROV_LIB))
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(PROV_LIBS) $(CMOCKA_LIBS)
$(BUILD)/unit-vg/agent_test_%: $(BUILD)/vg/tests/unit/agent_test_%.o $(call obj,vg,$(AGENT_LIB))
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(AGENT_LIBS) $(CMOCKA_LIBS)

# Fuzz targets: fuzz_agent_* link the agent modules, the rest the provisioner's.
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -g -O1
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
fuzz-build: $(FUZZ_BINS)
$(BUILD)/fuzz/fuzz_agent_%: tests/fuzz/fuzz_agent_%.c $(AGENT_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out -Werror,$(AGENT_CFLAGS)) $(FUZZ_FLAGS) -o $@ $^ $(AGENT_LIBS)
$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c provisioner/config.c $(LIB_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(PROV_CFLAGS) $(FUZZ_FLAGS) -o $@ $^ $(call pkgflags,libs,yaml-0.1 libcrypto)
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PROV_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(PROV_CFLAGS) $(FUZZ_FLAGS) -o $@ $^ $(PROV_LIBS)

# Only the object trees: build/ also holds image caches whose rootfs has *.d dirs.
-include $(shell find $(BUILD)/rel $(BUILD)/rel-agent $(BUILD)/asan $(BUILD)/vg -name '*.d' -type f 2>/dev/null)

# ---------------------------------------------------------------------------
# install / uninstall (PREFIX, DESTDIR), and the bash completion
# ---------------------------------------------------------------------------
# An installed PREFIX/bin/inception finds its data relative to itself:
#   PREFIX/lib/inception/agent          the guest agent (find_agent, stack.c)
#   PREFIX/share/inception/             cloud-init/ templates, image-build.sh,
#                                       agent/ sources + the provisioner files
#                                       they link (build-in-guest fallback)
#                                       (data_path, seed.c)
#   PREFIX/share/man/man1/inception.1   the man page
#   PREFIX/share/bash-completion/completions/inception
# Nothing is compiled in, so DESTDIR staging and a moved PREFIX both work.
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
inst_bin   = $(DESTDIR)$(PREFIX)/bin
inst_lib   = $(DESTDIR)$(PREFIX)/lib/inception
inst_data  = $(DESTDIR)$(PREFIX)/share/inception
inst_man   = $(DESTDIR)$(PREFIX)/share/man/man1
inst_comp  = $(DESTDIR)$(PREFIX)/share/bash-completion/completions

.PHONY: install uninstall completion
## completion: build/inception.bash, generated from the binary's command table
completion: $(BUILD)/inception.bash
$(BUILD)/inception.bash: $(BUILD)/inception provisioner/completion.sh
	provisioner/completion.sh $(BUILD)/inception >$@.tmp && mv $@.tmp $@

## install: the CLI, the agent, its data, the man page and the bash completion (PREFIX=/usr/local, DESTDIR)
install: $(BUILD)/inception $(BUILD)/agent $(BUILD)/inception.bash
	$(INSTALL) -d '$(inst_bin)' '$(inst_lib)' '$(inst_data)/cloud-init' '$(inst_data)/provisioner' \
		'$(inst_data)/agent/lib' '$(inst_man)' '$(inst_comp)'
	$(INSTALL) -m 0755 $(BUILD)/inception '$(inst_bin)/inception'
	$(INSTALL) -m 0755 $(BUILD)/agent '$(inst_lib)/agent'
	$(INSTALL) -m 0644 cloud-init/* '$(inst_data)/cloud-init/'
	$(INSTALL) -m 0755 provisioner/image-build.sh '$(inst_data)/provisioner/'
	@for f in agent/* agent/lib/*; do \
		[ -f "$$f" ] || continue; \
		if [ -x "$$f" ]; then m=0755; else m=0644; fi; \
		echo "$(INSTALL) -m $$m $$f '$(inst_data)/'$$(dirname $$f)/"; \
		$(INSTALL) -m $$m "$$f" '$(inst_data)/'"$$(dirname "$$f")/" || exit 1; \
	done
	$(INSTALL) -m 0644 provisioner/inception.1 '$(inst_man)/inception.1'
	$(INSTALL) -m 0644 $(BUILD)/inception.bash '$(inst_comp)/inception'

## uninstall: remove what install put under PREFIX
uninstall:
	rm -f '$(inst_bin)/inception' '$(inst_lib)/agent' '$(inst_man)/inception.1' '$(inst_comp)/inception'
	rm -rf '$(inst_data)'
	rmdir '$(inst_lib)' 2>/dev/null || true
