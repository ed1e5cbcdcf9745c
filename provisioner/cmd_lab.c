/*
 * cmd_lab.c: `inception lab SUBCOMMAND -f LAB.yaml`: many seats from one
 * file (lab.h).  Parses the options, opens the lab, calls one lifecycle
 * function and renders its per-seat table (or one JSON object per seat).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab.h"
#include "report.h"

static void print_json(const struct lab_ctx *x)
{
	size_t i;

	for (i = 0; i < x->l->nseats; i++) {
		const struct lab_seat_run *r = &x->r[i];

		printf("{\"type\":\"seat\",\"lab\":");
		json_write_string(stdout, x->l->name);
		printf(",\"seat\":");
		json_write_string(stdout, r->seat->name);
		printf(",\"vm\":");
		json_write_string(stdout, r->seat->vm);
		printf(",\"state\":");
		json_write_string(stdout, r->result[0] ? r->result : "-");
		printf(",\"login\":");
		json_write_string(stdout, r->seat->login);
		printf(",\"vm_only\":%s,\"ssh_port\":%u,\"https_port\":%u,\"health\":",
		       r->vm_only ? "true" : "false", r->ports.ssh, r->ports.https);
		json_write_string(stdout, r->health[0] ? r->health : "-");
		printf(",\"secs\":%ld,\"config\":", r->secs);
		json_write_string(stdout, r->cfg);
		printf(",\"detail\":");
		json_write_string(stdout, r->detail);
		printf("}\n");
	}
	fflush(stdout);
}

/* seat, state, login, ports, health, time; then the detail of each seat
 * that has one. */
static void print_table(const struct lab_ctx *x, const char *title)
{
	char ports[64], line[1024];
	size_t i;

	if (report_mode() == REPORT_JSON) {
		print_json(x);
		return;
	}
	printf("%s\n", title);
	printf("%-14s %-10s %-12s %-24s %-18s %s\n", "SEAT", "STATE", "LOGIN", "PORTS (ssh, https)",
	       "HEALTH", "TIME");
	for (i = 0; i < x->l->nseats; i++) {
		const struct lab_seat_run *r = &x->r[i];

		if (r->ports.ssh)
			snprintf(ports, sizeof(ports), "%u, %u", r->ports.ssh, r->ports.https);
		else
			snprintf(ports, sizeof(ports), "-");
		snprintf(line, sizeof(line), "%-14s %-10s %-12s %-24s %-18s %lds", r->seat->name,
		         r->result[0] ? r->result : "-", r->seat->login, ports,
		         r->health[0] ? r->health : "-", r->secs);
		printf("%s\n", line);
	}
	for (i = 0; i < x->l->nseats; i++)
		if (x->r[i].detail[0]) {
			report_sanitize(x->r[i].detail, line, sizeof(line));
			printf("  %s: %s\n", x->r[i].seat->name, line);
		}
	fflush(stdout);
}

static const char *default_file(void)
{
	static const char *const names[] = {"LAB.yaml", "lab.yaml", "LAB.yml", "lab.yml", NULL};
	size_t i;

	for (i = 0; names[i]; i++)
		if (access(names[i], F_OK) == 0)
			return names[i];
	return NULL;
}

struct lab_opts {
	const char *file;
	int jobs, locked;
	const char *sub;
	int argc; /* what follows the subcommand (lab ssh SEAT [-- CMD]) */
	char **argv;
};

static int parse_opts(struct cli *cli, int argc, char **argv, struct lab_opts *o, struct err *e)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"locked", no_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->sub = "";
	while ((c = cli_getopt(cli, argc, argv, "f:j:", opts, e)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'f')
			o->file = optarg;
		if (c == 'L')
			o->locked = 1;
		if (c == 'j') {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 64)
				return err_setc(e, EXIT_USAGE,
				                "--jobs: \"%s\" is not a number in 1..64", optarg);
			o->jobs = (int)v;
		}
	}
	if (optind >= argc) {
		err_setc(e, EXIT_USAGE,
		         "lab: which subcommand? (up, status, ssh, check, push, down, destroy, "
		         "verify; see `inception help lab`)");
		return -1;
	}
	o->sub = argv[optind];
	o->argc = argc - optind - 1;
	o->argv = argv + optind + 1;
	if (o->file == NULL && (o->file = default_file()) == NULL)
		return err_setc(e, EXIT_USAGE,
		                "lab: no lab file (-f LAB.yaml; ./LAB.yaml not found)");
	if (o->locked && strcmp(o->sub, "up") != 0)
		return err_setc(e, EXIT_USAGE, "--locked: only for `lab up`");
	if (strcmp(o->sub, "ssh") != 0 && o->argc > 0)
		return err_setc(e, EXIT_USAGE, "lab %s: unexpected argument \"%s\"", o->sub,
		                o->argv[0]);
	return 0;
}

static int dispatch(struct lab_ctx *x, const struct lab_opts *o, struct err *e)
{
	char md[4096], js[4096];
	int ret;

	if (strcmp(o->sub, "up") == 0) {
		report_info("lab %s: %zu seats, %d at a time", x->l->name, x->l->nseats, x->jobs);
		ret = lab_up(x, o->locked, e);
		print_table(x, "lab up:");
		if (!o->locked && access(x->lock, F_OK) == 0)
			report_info("inputs recorded in %s", x->lock);
		return ret;
	}
	if (strcmp(o->sub, "status") == 0) {
		lab_status(x);
		print_table(x, "lab status:");
		return 0;
	}
	if (strcmp(o->sub, "ssh") == 0) {
		int seat;
		if (o->argc < 1)
			return err_setc(e, EXIT_USAGE,
			                "lab ssh: which seat? (lab ssh SEAT [-- CMD])");
		seat = lab_find(x->l, o->argv[0]);
		if (seat < 0)
			return err_setc(e, EXIT_USAGE, "lab ssh: no seat \"%s\" in %s", o->argv[0],
			                x->l->file);
		return lab_exec_ssh(x, seat, o->argc - 1, o->argv + 1, e);
	}
	if (strcmp(o->sub, "check") == 0) {
		ret = lab_check(x, md, sizeof(md), js, sizeof(js), e);
		print_table(x, "lab check:");
		report_info("summary: %s and %s", md, js);
		return ret;
	}
	if (strcmp(o->sub, "push") == 0 || strcmp(o->sub, "down") == 0) {
		const char *args[] = {o->sub, NULL};
		ret = lab_each(x, args, strcmp(o->sub, "push") == 0, e);
		print_table(x, strcmp(o->sub, "push") == 0 ? "lab push:" : "lab down:");
		return ret;
	}
	if (strcmp(o->sub, "destroy") == 0) {
		ret = lab_destroy(x, e);
		print_table(x, "lab destroy:");
		return ret;
	}
	if (strcmp(o->sub, "verify") == 0) {
		ret = lab_verify(x, e);
		print_table(x, "lab verify:");
		return ret;
	}
	return err_setc(e, EXIT_USAGE,
	                "lab: unknown subcommand \"%s\" (up, status, ssh, check, push, down, "
	                "destroy, verify)",
	                o->sub);
}

int cmd_lab(struct cli *cli, int argc, char **argv, struct err *e)
{
	struct lab_opts o;
	struct lab l;
	struct lab_ctx x;
	int ret;

	memset(&l, 0, sizeof(l));
	if (parse_opts(cli, argc, argv, &o, e) < 0 || lab_load_file(&l, o.file, e) < 0)
		return -1;
	if (lab_open(&x, &l, cli->config_path, o.jobs, e) < 0) {
		lab_close(&x);
		lab_free(&l);
		return -1;
	}
	ret = dispatch(&x, &o, e);
	lab_close(&x);
	lab_free(&l);
	return ret;
}
