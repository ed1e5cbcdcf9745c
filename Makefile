# Inception: the 42 stack (default goal) and the host tooling that builds a
# VM to run it in.  `make` with no target starts the stack, as the 42 rules
# want; `make vm` provisions a VM and runs the stack inside it; `make test`
# runs every test tier.  `make help` lists the targets.

.DEFAULT_GOAL := all

# ---------------------------------------------------------------------------
# 42 stack targets (run on a machine with Docker: the VM, or any host)
# ---------------------------------------------------------------------------
# STACK-SECTION-BEGIN
# Everything is overridable on the command line (make VAR=value); the tests
# use that to run a second, separate stack.  LOGIN comes from srcs/.env once
# that exists; before, from $USER when it looks like a 42 login (lower-case
# letters, digits, '-', not root), else "student".
ENV_FILE     ?= $(CURDIR)/srcs/.env
SECRETS_DIR  ?= $(CURDIR)/secrets
PROJECT      ?= inception
IMAGE_TAG    ?= inception
NAME_PREFIX  ?=
HTTPS_PORT   ?= 443
WAIT_SECONDS ?= 300
ifeq ($(origin LOGIN),undefined)
LOGIN        := $(or $(shell sed -n 's/^LOGIN=//p' '$(ENV_FILE)' 2>/dev/null),$(shell \
	u=$${USER:-$$(id -un)}; case "$$u" in (root | [!a-z]* | *[!a-z0-9-]*) echo student ;; \
	(*) echo "$$u" ;; esac))
endif
DATA_DIR     ?= /home/$(LOGIN)/data
FORCE        ?= 0

STACK_TOOLS  := srcs/requirements/tools
SECRET_NAMES := db_password db_root_password wp_admin_password wp_user_password
SECRET_FILES  = $(SECRET_NAMES:%=$(SECRETS_DIR)/%.txt)
# `docker compose` (v2) when it exists, else `docker-compose` (v1); looked
# up once, and only when a stack target needs it.
COMPOSE_BIN   = $(eval COMPOSE_BIN := $(shell docker compose version >/dev/null 2>&1 \
	&& echo "docker compose" || echo docker-compose))$(COMPOSE_BIN)
COMPOSE       = DATA_DIR='$(DATA_DIR)' SECRETS_DIR='$(SECRETS_DIR)' IMAGE_TAG='$(IMAGE_TAG)' \
	NAME_PREFIX='$(NAME_PREFIX)' HTTPS_PORT='$(HTTPS_PORT)' \
	$(COMPOSE_BIN) -p '$(PROJECT)' -f srcs/docker-compose.yml --env-file '$(ENV_FILE)'

.PHONY: all up down stop start ps logs clean fclean re stack-prepare stack-wait

## all: (default) secrets, srcs/.env, data dirs, base image, build, up, wait healthy
all: stack-prepare
	@$(COMPOSE) up -d --build --remove-orphans
	@$(MAKE) --no-print-directory stack-wait

## up: start the stack without rebuilding the images (builds only missing ones)
up: stack-prepare
	@$(COMPOSE) up -d --remove-orphans
	@$(MAKE) --no-print-directory stack-wait

stack-prepare: $(SECRET_FILES) | $(ENV_FILE)
	@mkdir -p '$(DATA_DIR)/wordpress' '$(DATA_DIR)/mariadb'
	@$(STACK_TOOLS)/base-image.sh

stack-wait:
	@$(STACK_TOOLS)/wait-healthy.sh $(WAIT_SECONDS) $$($(COMPOSE) ps -q) || \
		{ echo "stack: not healthy, see: make logs" >&2; exit 1; }
	@echo "stack: healthy: https://$$(sed -n 's/^DOMAIN_NAME=//p' '$(ENV_FILE)')" \
		"(add '127.0.0.1 $$(sed -n 's/^DOMAIN_NAME=//p' '$(ENV_FILE)')' to /etc/hosts)"

# A random password per file, 0600, made only when missing (never printed).
$(SECRETS_DIR)/%.txt:
	@mkdir -p '$(@D)' && chmod 700 '$(@D)'
	@umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >'$@.tmp' \
		&& mv '$@.tmp' '$@' && echo "stack: generated $@"

# Written once from the committed example; edit srcs/.env afterwards.
$(ENV_FILE):
	@case '$(LOGIN)' in ([!a-z]* | *[!a-z0-9-]*) \
		echo "stack: LOGIN='$(LOGIN)': use lower-case letters, digits and -" >&2; exit 1 ;; esac
	@sed -e 's/__LOGIN__/$(LOGIN)/g' \
		-e 's/__ADMIN__/$(if $(findstring admin,$(LOGIN)),owner42,$(LOGIN))/g' \
		srcs/.env.example >'$@' && echo "stack: wrote $@ (LOGIN=$(LOGIN))"

## down: stop and remove the containers and the network (data is kept)
down:
	@$(COMPOSE) down --remove-orphans

## stop / start: stop or start the existing containers
stop:
	@$(COMPOSE) stop
start:
	@$(COMPOSE) start
	@$(MAKE) --no-print-directory stack-wait

## ps / logs: the containers, their last log lines
ps:
	@$(COMPOSE) ps
logs:
	@$(COMPOSE) logs --tail=200

## clean: down, and remove the stack's images
clean:
	@$(COMPOSE) down --rmi all --remove-orphans

## fclean: clean, and remove the volumes and the data (asks unless FORCE=1)
fclean:
	@if [ '$(FORCE)' != 1 ]; then \
		printf 'Delete the volumes and everything in %s? [y/N] ' '$(DATA_DIR)'; \
		read answer && [ "$$answer" = y ] || { echo "nothing deleted"; exit 1; }; \
	fi
	@$(COMPOSE) down --rmi all --volumes --remove-orphans
	@# The files belong to the containers' users: delete them from a container
	@# when the base image is there, so this works without root too.
	@if [ -d '$(DATA_DIR)' ]; then \
		if docker image inspect debian:bookworm >/dev/null 2>&1; then \
			docker run --rm -v '$(DATA_DIR)':/data debian:bookworm \
				sh -c 'rm -rf /data/wordpress /data/mariadb'; \
		else rm -rf '$(DATA_DIR)/wordpress' '$(DATA_DIR)/mariadb'; fi; \
		rmdir '$(DATA_DIR)' 2>/dev/null || true; \
	fi
	@echo "stack: removed containers, images, volumes and $(DATA_DIR)/{wordpress,mariadb}"

## re: fclean, then all
re: fclean
	@$(MAKE) --no-print-directory all
# STACK-SECTION-END

# ---------------------------------------------------------------------------
# Host side: build the provisioner and the agent, install host packages,
# provision the VM, run the tests.
# ---------------------------------------------------------------------------
include provisioner/build.mk
include tests/tests.mk
