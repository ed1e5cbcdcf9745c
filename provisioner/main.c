/*
 * main.c: the inception command line.
 *
 * One table lists every command (name, handler, usage, one-line help,
 * details); main parses the global flags, builds the configuration
 * (defaults < config file < INCEPTION_* environment < flags), dispatches to
 * the handler and turns its error, if any, into one line and an exit code.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

#ifndef INCEPTION_VERSION
#define INCEPTION_VERSION "0.1"
#endif

extern char **environ;

static int cmd_help(struct cli *cli, int argc, char **argv, struct err *e);

static const struct command COMMANDS[] = {
    {"up", cmd_up, "[options] [PROJECT]",
     "create or resume the VM and bring a project up (idempotent)",
     "Gets the image, makes the keys and the cloud-init seed, defines and starts the VM,\n"
     "waits for SSH (pinned host key) and cloud-init, pushes the project and runs the\n"
     "agent until its services run and https://DOMAIN answers.  Run again: verifies and\n"
     "returns quickly.  Missing env files and secrets are listed before any long work.\n"
     "  PROJECT               a directory or a git URL (file://, a path, ...; cloned on\n"
     "                        this host); default: the project key, else the current\n"
     "                        directory if it is an Inception project (Makefile +\n"
     "                        srcs/docker-compose.yml or srcs/compose.yaml), else the\n"
     "                        bundled stack.  Not a project: exit 2, nothing started.\n"
     "  --project PROJECT     the same, as a flag (the project key)\n"
     "  --ref REV             a branch, tag or commit of PROJECT's repository\n"
     "  --committed           push git's tree at HEAD (or --ref), as a fresh clone has\n"
     "                        it, instead of the working tree\n"
     "  --generate-missing    make the env files and secrets the project needs but\n"
     "                        lacks (kept per VM in its state dir, pushed 0600)\n"
     "  --no-build-fallback   do not build the image when the download fails\n"
     "  --vm-only             stop once the VM answers SSH (no push, no agent)\n"
     "  --clean               a new VM from the plain Debian image with a blank Docker\n"
     "                        disk: no golden layer, no Docker cache"},
    {"status", cmd_status, "[--json]", "show the VM's state, ports, SSH and cloud-init status",
     NULL},
    {"ssh", cmd_ssh, "[-- CMD...]", "open a shell in the VM, or run CMD there",
     "Uses the VM's own key and pinned host key; also writes STATE/ssh_config so\n"
     "`ssh -F STATE/ssh_config VMNAME` works."},
    {"forward", cmd_forward, "[VM] [LOCAL:]GUEST",
     "serve a guest port on this machine's 127.0.0.1 until Ctrl-C",
     "Listens on 127.0.0.1:LOCAL (default: GUEST if >= 1024, else the VM's host port\n"
     "for it, else any free port) and prints the URL.  Each connection goes to the\n"
     "VM's forward of GUEST: through the libvirt host over SSH when libvirt.uri is\n"
     "qemu+ssh://, directly on this host otherwise; a port with no forward goes\n"
     "through the VM's own SSH server.  VM: a VM name (default vm.name)."},
    {"console", cmd_console, "[--no-follow]", "follow the VM's serial console log", NULL},
    {"push", cmd_push, "[options] [PROJECT]",
     "re-sync the project into the VM, run make and the health check",
     "Without PROJECT: the project the VM runs.  A different one stops the old one's\n"
     "containers (volumes kept) and runs every agent step.\n"
     "  --ref REV, --committed, --generate-missing   as for up"},
    {"down", cmd_down, "[--timeout SECONDS]", "shut the VM down (ACPI, then forced)", NULL},
    {"destroy", cmd_destroy, "[--all]",
     "remove the VM, its volumes and state (keeps the image cache)", NULL},
    {"rebuild", cmd_rebuild, "[options] [PROJECT]", "destroy, then up",
     "Destroys the VM (keeps the image cache), then runs `up` with the same options.\n"
     "  PROJECT, --ref REV, --committed, --generate-missing   as for up\n"
     "  --no-build-fallback   do not build the image when the download fails\n"
     "  --vm-only             stop once the VM answers SSH (no push, no agent)\n"
     "  --clean               a new VM from the plain Debian image with a blank Docker\n"
     "                        disk: no golden layer, no Docker cache"},
    {"image", cmd_image,
     "fetch [--refresh] [--no-build-fallback] | build [SUITE] | list [--caches] | export FILE | "
     "import [--sha256 HEX] FILE | prune [--all] [--caches]",
     "manage the cached base images, golden layers and Docker caches", NULL},
    {"config", cmd_config, "[--keys]",
     "print the effective configuration and where each value came from",
     "  --keys   list every configuration key with its flag and meaning"},
    {"check", cmd_check,
     "[--local [DIR]] [--static] [--only SECTION,...] [--report FILE.md] [options]",
     "walk the 42 evaluation sheet over a project, point by point",
     "Prints one row per point of the evaluation sheet, in its order: PASS, FAIL,\n"
     "MANUAL or SKIP, whether a FAIL ends the evaluation, and the evidence (the\n"
     "command run and what it showed, or file:line).  Exit 0 when nothing FAILs.\n"
     "Without --local: the project in the VM (docker in the guest over SSH; TLS and\n"
     "the site through the VM's forward of 443; our stack's users from `creds`).\n"
     "  --local              the project DIR (default .) on this machine's Docker\n"
     "  --static             only the points read from the files and git\n"
     "  --only S1,S2         sections: preliminaries explain docker network nginx\n"
     "                       wordpress mariadb persistence restart bonus\n"
     "  --evaluate           also the points that disturb the stack (restart)\n"
     "  --report FILE.md     also write a Markdown report\n"
     "  --env-file FILE      the compose variables (default DIR/srcs/.env)\n"
     "  --project NAME       the compose project (default: by its srcs/ directory)\n"
     "  --data-dir DIR       where the volumes must live (default /home/LOGIN/data)\n"
     "  --wp-user U --wp-password P             log in and post a comment\n"
     "  --wp-admin A --wp-admin-password P      log in and edit a page\n"
     "  --wp-password-file F, --wp-admin-password-file F   the same, read from a file\n"
     "  --exclude P1,P2      path prefixes the credential scans skip (e.g. tests/)\n"
     "  --today YYYY-MM-DD   the date for the penultimate-stable rule"},
    {"creds", cmd_creds, "",
     "print the project a VM runs and its generated inputs (passwords included)",
     "The project and its commit; for the bundled stack the WordPress and database\n"
     "logins; every generated file by its project path."},
    {"lab", cmd_lab,
     "up [--locked] [--jobs N] | status | ssh SEAT [-- CMD] | check | push | down | destroy | "
     "verify  [-f LAB.yaml]",
     "many VMs (seats) from one lab file, on one shared image",
     "Each seat of LAB.yaml is an ordinary VM (LAB-SEAT) with its own login, project\n"
     "and two ports from forwards_from (SSH, HTTPS), run as `inception -c\n"
     "STATE/labs/LAB/seats/SEAT.yaml CMD`, at most --jobs at once.  One seat failing\n"
     "does not stop the others; each subcommand ends with a table (seat, state, login,\n"
     "ports, health, time), or one JSON object per seat with --json.\n"
     "  -f, --file FILE  the lab file (default ./LAB.yaml)\n"
     "  -j, --jobs N     seats at once (default: host CPUs, bounded by memory)\n"
     "  --locked         up: refuse a seat whose inputs differ from LAB.lock\n"
     "  up        create or resume every seat; records the inputs in LAB.lock\n"
     "  status    domain state, SSH with the pinned key, stack of every seat\n"
     "  ssh SEAT  a shell in one seat, or `-- CMD`\n"
     "  check     `inception check` on every stack seat; one summary (.md and .json)\n"
     "  push      `inception push` on every stack seat\n"
     "  down      shut every seat down\n"
     "  destroy   remove every seat's VM, volumes and state, and the lab's state\n"
     "  verify    compare the seats with LAB.lock (image, golden layer, base images,\n"
     "            project commits, the VMs' base volume)"},
    {"help", cmd_help, "[COMMAND]", "show help for a command", NULL},
};
#define NCOMMANDS (sizeof(COMMANDS) / sizeof(COMMANDS[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	return NULL;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: inception [global options] COMMAND [options]\n"
	           "\n"
	           "Builds a Debian VM with libvirt and runs the 42 Inception stack in it.\n"
	           "\n"
	           "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].help);
	fprintf(f,
	        "\n"
	        "Global options:\n"
	        "  -c, --config FILE  configuration file (default ./inception.yaml, then\n"
	        "                     $XDG_CONFIG_HOME/inception/config.yaml)\n"
	        "      --json         machine-readable output, one JSON object per line\n"
	        "  -q, --quiet        only errors and results\n"
	        "  -v, --verbose      more detail\n"
	        "  -h, --help         this help;  `inception help COMMAND` for one command\n"
	        "      --version      print the version\n"
	        "\n"
	        "Every configuration key is also a flag (`inception config --keys` lists them),\n"
	        "e.g. --login, --memory 4G, --accel tcg, --forward 127.0.0.1:8443:443.\n"
	        "Precedence: defaults < config file < INCEPTION_* environment < flags.\n"
	        "\n"
	        "Exit codes:\n"
	        "  0 success           1 failure           2 usage or configuration error\n"
	        "  3 SSH host key mismatch                 4 timeout\n"
	        "  5 stack not healthy 6 no such VM\n");
}

static int cmd_help(struct cli *cli, int argc, char **argv, struct err *e)
{
	const struct command *c;

	(void)cli;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (c == NULL)
		return err_setc(e, EXIT_USAGE,
		                "help: unknown command \"%s\" (see `inception --help`)", argv[1]);
	printf("usage: inception %s %s\n\n%s\n", c->name, c->usage, c->help);
	if (c->details)
		printf("\n%s\n", c->details);
	printf("\nAll configuration flags are accepted too (`inception config --keys`).\n");
	return 0;
}

int cmd_config(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{"keys", no_argument, NULL, 'k'}, {NULL, 0, NULL, 0}};
	const char *const *keys = config_keys();
	int c, list = 0;
	size_t i;
	char buf[1024];

	while ((c = cli_getopt(cli, argc, argv, "", opts, e)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'k')
			list = 1;
	}
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "config: unexpected argument \"%s\"", argv[optind]);
	if (list) {
		report_kv_begin("Configuration keys (YAML key, flag, meaning):");
		for (i = 0; keys[i]; i++) {
			snprintf(buf, sizeof(buf), "--%s", config_key_flag(keys[i]));
			report_kv(keys[i], buf, config_key_doc(keys[i]));
		}
		report_kv_end();
		return 0;
	}
	snprintf(buf, sizeof(buf), "Effective configuration (file: %s):",
	         cli->cfg.config_file ? cli->cfg.config_file : "none");
	report_kv_begin(buf);
	for (i = 0; keys[i]; i++) {
		config_format(&cli->cfg, keys[i], buf, sizeof(buf));
		if (strcmp(keys[i], "push.dir") == 0 && buf[0] == '\0')
			config_remote_dir(&cli->cfg, buf, sizeof(buf));
		if (strcmp(keys[i], "libvirt.uri") == 0 && buf[0] == '\0')
			snprintf(buf, sizeof(buf), "auto");
		report_kv(keys[i], buf, config_origin(&cli->cfg, keys[i]));
	}
	report_kv_end();
	return 0;
}

/* Global config flags seen before the command are applied after the file
 * and the environment, so they keep their precedence. */
struct pending {
	const char *key;
	const char *value;
	char where[64];
};

/* Longer than 60 lines: global flags (a switch of one-liners), configuration loading in its order,
 * then the dispatch. */
int main(int argc, char **argv)
{
	static struct option global[64];
	struct pending pend[64];
	size_t npend = 0, i;
	struct cli cli;
	struct err e;
	const struct command *cmd;
	int c, ret, show_version = 0, show_help = 0;

	static const struct option base[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    /* hidden: one command name per line, for the bash completion
	     * generator (provisioner/completion.sh) */
	    {"complete-commands", no_argument, NULL, 'L'},
	};

	memset(&cli, 0, sizeof(cli));
	err_clear(&e);
	cli.prog = "inception";
	cli_options(global, sizeof(global) / sizeof(global[0]), base);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:qvh", global, NULL)) != -1) {
		switch (c) {
		case 'c': cli.config_path = optarg; break;
		case 'j': cli.json = 1; break;
		case 'q': cli.verbosity = -1; break;
		case 'v': cli.verbosity = 1; break;
		case 'h': show_help = 1; break;
		case 'V': show_version = 1; break;
		case 'L':
			for (i = 0; i < NCOMMANDS; i++)
				printf("%s\n", COMMANDS[i].name);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "inception: error: option %s needs a value\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		case '?':
			fprintf(stderr,
			        "inception: error: unknown option %s (see `inception --help`)\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (cli_config_key(c) != NULL && npend < 64) {
				pend[npend].key = cli_config_key(c);
				pend[npend].value = optarg;
				snprintf(pend[npend].where, sizeof(pend[npend].where), "--%s",
				         config_key_flag(pend[npend].key));
				npend++;
			}
		}
	}
	if (show_version) {
		printf("inception %s\n", INCEPTION_VERSION);
		return EXIT_OK;
	}
	if (show_help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* `--json` after the command works too (common habit: `status --json`) */
	for (i = (size_t)optind; i < (size_t)argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0) {
			cli.json = 1;
			for (size_t j = i; j + 1 < (size_t)argc; j++)
				argv[j] = argv[j + 1];
			argc--;
			break;
		}
	report_init(cli.json ? REPORT_JSON : REPORT_HUMAN, cli.verbosity);
	/* a peer that goes away (libvirtd, sshd restarting in the guest) is an
	 * error to report, not a signal that ends us (children get SIG_DFL) */
	signal(SIGPIPE, SIG_IGN);
	/* `inception CMD --help` (or -h) is `inception help CMD` */
	for (i = (size_t)optind + 1; i < (size_t)argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			char *hv[] = {"help", argv[optind], NULL};

			return cmd_help(&cli, 2, hv, &e) < 0 ? (report_error(e.msg), EXIT_USAGE)
			                                     : EXIT_OK;
		}

	cmd = find_command(argv[optind]);
	if (cmd == NULL) {
		snprintf(e.msg, sizeof(e.msg), "unknown command \"%s\" (see `inception --help`)",
		         argv[optind]);
		report_error(e.msg);
		return EXIT_USAGE;
	}

	config_defaults(&cli.cfg);
	ret = config_load_file(&cli.cfg, cli.config_path, &e);
	if (ret == 0)
		ret = config_load_env(&cli.cfg, environ, &e);
	for (i = 0; ret == 0 && i < npend; i++)
		ret = config_set(&cli.cfg, pend[i].key, pend[i].value, pend[i].where, &e);
	if (ret < 0) {
		report_error(e.msg);
		config_free(&cli.cfg);
		return EXIT_USAGE;
	}

	ret = cmd->fn(&cli, argc - optind, argv + optind, &e);
	config_free(&cli.cfg);
	if (ret < 0) {
		report_error(e.msg[0] ? e.msg : "failed (no detail)");
		return e.code ? e.code : EXIT_FAIL;
	}
	return ret;
}
