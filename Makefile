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
# Extra compose files (the bonus adds srcs/docker-compose.bonus.yml here).
COMPOSE_FILES ?= srcs/docker-compose.yml
# Flags for the image build in `all`, e.g. BUILD_FLAGS=--no-cache.
BUILD_FLAGS  ?=
ifeq ($(origin LOGIN),undefined)
LOGIN        := $(or $(shell sed -n 's/^LOGIN=//p' '$(ENV_FILE)' 2>/dev/null),$(shell \
	u=$${USER:-$$(id -un)}; case "$$u" in (root | [!a-z]* | *[!a-z0-9-]*) echo student ;; \
	(*) echo "$$u" ;; esac))
endif
DATA_DIR     ?= /home/$(LOGIN)/data
# compose runs in srcs/ and would read a relative path from there: make the
# three paths absolute (relative to where make runs, as a user expects).
# (Not $(abspath): it would split a path with spaces.)
absolute = $(if $(filter /%,$(firstword $(1))),$(1),$(CURDIR)/$(1))
override ENV_FILE    := $(call absolute,$(ENV_FILE))
override SECRETS_DIR := $(call absolute,$(SECRETS_DIR))
override DATA_DIR    := $(call absolute,$(DATA_DIR))
FORCE        ?= 0

STACK_TOOLS  := srcs/requirements/tools
STACK_STAMP   = $(CURDIR)/build/stack/$(PROJECT)-$(IMAGE_TAG).built
STACK_UP_STAMP = $(CURDIR)/build/stack/$(PROJECT).up
STACK_SERVICES ?= nginx wordpress mariadb
STACK_IMAGES  = $(foreach s,$(STACK_SERVICES),$(s):$(IMAGE_TAG))
# The services' build contexts (bonus ones under requirements/bonus/).
STACK_INPUTS  = $(COMPOSE_FILES) $(shell find $(wildcard $(STACK_SERVICES:%=srcs/requirements/%) \
	$(STACK_SERVICES:%=srcs/requirements/bonus/%)) -type f)
SECRET_NAMES := db_password db_root_password wp_admin_password wp_user_password
SECRET_FILES  = $(SECRET_NAMES:%=$(SECRETS_DIR)/%.txt)
# Without ENV_FILE (down or fclean before the first make) compose reads
# the example (placeholders only), not another stack's srcs/.env.
# One look at Docker, only when a stack target needs it: `docker compose`
# (v2) when it exists, else `docker-compose` (v1); and whether the engine
# (25+) knows healthcheck.start_interval: then HEALTH_FILE paces the checks
# (2 s while starting, 30 s once healthy; 2 s checks keep a TCG VM busy).
HEALTH_FILE  := srcs/docker-compose.health.yml
DOCKER_PROBE  = $(eval DOCKER_PROBE := $(shell \
	if docker compose version >/dev/null 2>&1; then echo v2; else echo v1; fi; \
	v=$$(docker version -f '{{.Server.Version}}' 2>/dev/null); \
	[ "$${v%%.*}" -ge 25 ] 2>/dev/null && echo start-interval))$(DOCKER_PROBE)
COMPOSE_BIN   = $(if $(filter v2,$(DOCKER_PROBE)),docker compose,docker-compose)
COMPOSE       = DATA_DIR='$(DATA_DIR)' SECRETS_DIR='$(SECRETS_DIR)' IMAGE_TAG='$(IMAGE_TAG)' \
	NAME_PREFIX='$(NAME_PREFIX)' HTTPS_PORT='$(HTTPS_PORT)' \
	$(COMPOSE_BIN) -p '$(PROJECT)' $(COMPOSE_FILES:%=-f %) \
	$(if $(filter start-interval,$(DOCKER_PROBE)),-f $(HEALTH_FILE)) \
	--env-file '$(or $(wildcard $(ENV_FILE)),srcs/.env.example)'

.PHONY: all up down stop start ps logs clean fclean re stack-prepare stack-wait FORCE_STACK_BUILD

## all: (default) secrets, srcs/.env, data dirs, base image, build, up, wait healthy
all: stack-prepare
	@docker image inspect $(STACK_IMAGES) >/dev/null 2>&1 || rm -f '$(STACK_STAMP)'
	@$(STACK_TOOLS)/wait-healthy.sh 0 $(STACK_SERVICES:%=$(NAME_PREFIX)%) >/dev/null 2>&1 \
		|| rm -f '$(STACK_UP_STAMP)'
	@$(MAKE) --no-print-directory '$(STACK_UP_STAMP)'
	@$(MAKE) --no-print-directory stack-wait

# Two stamps keep a second `make` a fast no-op.  The images are rebuilt when
# a file they are made from changed, when one is missing, or with
# BUILD_FLAGS (e.g. --no-cache); `compose up` runs when the images, .env,
# the secrets or the compose files changed, or a container is not healthy.
$(STACK_UP_STAMP): $(STACK_STAMP) $(ENV_FILE) $(SECRET_FILES) $(COMPOSE_FILES) $(HEALTH_FILE)
	@$(COMPOSE) up -d --remove-orphans
	@touch '$@'
$(STACK_STAMP): $(STACK_INPUTS) $(if $(BUILD_FLAGS),FORCE_STACK_BUILD)
	@$(COMPOSE) build $(BUILD_FLAGS)
	@mkdir -p '$(@D)' && touch '$@'
FORCE_STACK_BUILD:

## up: start the stack without rebuilding the images (builds only missing ones)
up: stack-prepare
	@$(COMPOSE) up -d --remove-orphans
	@$(MAKE) --no-print-directory stack-wait

stack-prepare: $(SECRET_FILES) | $(ENV_FILE)
	@mkdir -p '$(DATA_DIR)/wordpress' '$(DATA_DIR)/mariadb'
	@$(STACK_TOOLS)/base-image.sh

stack-wait:
	@$(STACK_TOOLS)/wait-healthy.sh $(WAIT_SECONDS) \
		$$(docker ps -aq --filter 'label=com.docker.compose.project=$(PROJECT)') || \
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
	@rm -f '$(STACK_UP_STAMP)'

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
	@rm -f '$(STACK_STAMP)' '$(STACK_UP_STAMP)'

## fclean: clean, and remove the volumes and the data (asks unless FORCE=1)
fclean:
	@if [ '$(FORCE)' != 1 ]; then \
		printf 'Delete the volumes and everything in %s? [y/N] ' '$(DATA_DIR)'; \
		read answer && [ "$$answer" = y ] || { echo "nothing deleted"; exit 1; }; \
	fi
	@$(COMPOSE) down --rmi all --volumes --remove-orphans
	@rm -f '$(STACK_STAMP)' '$(STACK_UP_STAMP)'
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
# BONUS-SECTION-BEGIN
# Bonus services (redis, ftp, website, adminer, backup): a second compose
# file used on top of the stack's, with the same variables (PROJECT,
# IMAGE_TAG, NAME_PREFIX, DATA_DIR, SECRETS_DIR, ENV_FILE, ...).  `make`
# stays mandatory-only (and removes the bonus containers as orphans);
# `make bonus` runs all eight services.
BONUS_SECRET_FILES = $(SECRETS_DIR)/redis_password.txt $(SECRETS_DIR)/ftp_password.txt
BONUS_ENV_EXAMPLE := srcs/.env.bonus.example
BONUS_COMPOSE      = $(COMPOSE) -f srcs/docker-compose.bonus.yml

.PHONY: bonus bonus-up bonus-prepare bonus-wait bonus-down bonus-ps bonus-logs \
	bonus-clean bonus-fclean backup restore

## bonus: the stack plus the bonus services (build, up, wait until all healthy)
bonus: bonus-prepare
	@$(BONUS_COMPOSE) up -d --build --remove-orphans
	@$(MAKE) --no-print-directory bonus-wait

## bonus-up: the same without rebuilding the images
bonus-up: bonus-prepare
	@$(BONUS_COMPOSE) up -d --remove-orphans
	@$(MAKE) --no-print-directory bonus-wait

# Bonus keys missing from srcs/.env are appended from the example; the
# backups directory is private (dumps hold the users' password hashes).
bonus-prepare: stack-prepare $(BONUS_SECRET_FILES)
	@awk -F= 'FNR == NR { have[$$1]; next } \
		/^[A-Z_][A-Z0-9_]*=/ && !($$1 in have) { print }' \
		'$(ENV_FILE)' $(BONUS_ENV_EXAMPLE) >'$(ENV_FILE).bonus.tmp'
	@if [ -s '$(ENV_FILE).bonus.tmp' ]; then \
		{ echo; echo "# Bonus settings (from $(BONUS_ENV_EXAMPLE))"; \
		  cat '$(ENV_FILE).bonus.tmp'; } >>'$(ENV_FILE)'; \
		echo "bonus: added the bonus settings to $(ENV_FILE)"; fi
	@rm -f '$(ENV_FILE).bonus.tmp'
	@mkdir -p '$(DATA_DIR)/backups' && chmod 700 '$(DATA_DIR)/backups'

bonus-wait:
	@$(STACK_TOOLS)/wait-healthy.sh $(WAIT_SECONDS) $$($(BONUS_COMPOSE) ps -q) || \
		{ echo "bonus: not healthy, see: make bonus-logs" >&2; exit 1; }
	@v() { sed -n "s/^$$1=//p" '$(ENV_FILE)' | tail -n 1 | tr -d '"'; }; b=$$(v BONUS_BIND); \
	echo "bonus: healthy: https://$$(v DOMAIN_NAME), site http://$$b:$$(v SITE_PORT)/," \
		"adminer http://$$b:$$(v ADMINER_PORT)/, ftp (explicit TLS) $$b:$$(v FTP_PORT)"

## bonus-down: stop and remove every container of the stack and the bonus
bonus-down:
	@$(BONUS_COMPOSE) down --remove-orphans
	@rm -f '$(STACK_UP_STAMP)'

## bonus-ps / bonus-logs: the same as ps / logs, with the bonus services
bonus-ps:
	@$(BONUS_COMPOSE) ps
bonus-logs:
	@$(BONUS_COMPOSE) logs --tail=200

## bonus-clean: bonus-down, and remove the images of all eight services
bonus-clean:
	@$(BONUS_COMPOSE) down --rmi all --remove-orphans
	@rm -f '$(STACK_STAMP)' '$(STACK_UP_STAMP)'

## bonus-fclean: bonus-clean, volumes, backups, then fclean (asks unless FORCE=1)
bonus-fclean:
	@if [ '$(FORCE)' != 1 ]; then \
		printf 'Delete the volumes, the backups and everything in %s? [y/N] ' '$(DATA_DIR)'; \
		read answer && [ "$$answer" = y ] || { echo "nothing deleted"; exit 1; }; \
	fi
	@$(BONUS_COMPOSE) down --rmi all --volumes --remove-orphans
	@if [ -d '$(DATA_DIR)/backups' ]; then \
		if docker image inspect debian:bookworm >/dev/null 2>&1; then \
			docker run --rm -v '$(DATA_DIR)':/data debian:bookworm rm -rf /data/backups; \
		else rm -rf '$(DATA_DIR)/backups'; fi; \
	fi
	@$(MAKE) --no-print-directory fclean FORCE=1

## backup: a backup now (database dump + wp-content) into DATA_DIR/backups
backup:
	@$(BONUS_COMPOSE) exec -T backup backup

## restore: restore FILE (a name in DATA_DIR/backups; default: the newest)
restore:
	@case '$(FILE)' in (*[!A-Za-z0-9._-]*) \
		echo "restore: FILE must be a file name in $(DATA_DIR)/backups" >&2; exit 2 ;; esac
	@$(BONUS_COMPOSE) exec -T backup restore $(FILE)
	@# The object cache still holds the state before the restore.
	@$(BONUS_COMPOSE) exec -T redis sh -c \
		'REDISCLI_AUTH="$$(cat /run/secrets/redis_password)" redis-cli --no-auth-warning FLUSHALL' \
		>/dev/null && echo "restore: object cache flushed" || \
		echo "restore: redis is not running; the cache flushes itself when it is back" >&2
# BONUS-SECTION-END

# ---------------------------------------------------------------------------
# Host side: build the provisioner and the agent, install host packages,
# provision the VM, run the tests.  Optional: where only Makefile and srcs/
# were copied (the 42 way, e.g. into a VM by hand) the stack targets above
# work without them.
# ---------------------------------------------------------------------------
-include provisioner/build.mk
-include tests/tests.mk
