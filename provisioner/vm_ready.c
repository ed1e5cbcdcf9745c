/*
 * vm_ready.c: readiness after boot: cloud-init has finished.
 *
 * `cloud-init status` is polled over SSH (showing the console's last line
 * meanwhile) until it is no longer running, then `cloud-init status --wait`
 * gives the final word and its exit code (2: recoverable errors, a warning).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"
#include "vm_int.h"

static void ci_line(const char *line, void *arg)
{
	struct ci_status *c = arg;
	const char *p = strstr(line, "status:");

	if (p == line) {
		p += 7;
		while (*p == ' ')
			p++;
		snprintf(c->status, sizeof(c->status), "%s", p);
	}
}

static void ignore_line(const char *line, void *arg)
{
	(void)line;
	(void)arg;
}

/* Runs `cloud-init status [--wait]`; 0 with the status word, -1 when the
 * session could not run it (retry). */
int vm_cloud_init_status(const struct vm_target *t, int wait, long deadline, struct ci_status *c,
                         int *rc, struct err *e)
{
	ssh_session s = NULL;
	int ret;

	c->status[0] = '\0';
	if (sshc_connect(&t->t, &s, e) < 0)
		return -1;
	ret = sshc_exec_deadline(s, wait ? "cloud-init status --wait" : "cloud-init status",
	                         ci_line, ignore_line, c, rc, deadline, e);
	sshc_close(s);
	return ret;
}

/* Once cloud-init no longer runs: `cloud-init status --wait`, the
 * documented way to wait (it returns at once now), gives the exit code:
 * 0 done, 2 done with recoverable errors (a warning), else failed. */
static int final_status(const struct vm_target *t, long deadline, struct ci_status *c,
                        struct err *e)
{
	int rc = -1;

	for (;;) {
		struct err qe = {"", 0};

		if (vm_cloud_init_status(t, 1, deadline + 60000, c, &rc, &qe) == 0)
			break;
		if (qe.code == EXIT_HOSTKEY || report_now_ms() > deadline) {
			*e = qe;
			return -1;
		}
		sleep_ms(2000);
	}
	report_progress_done();
	if (rc != 0 && rc != 2)
		return err_set(
		    e,
		    "cloud-init failed (status \"%s\", exit %d). Look at `inception ssh "
		    "-- sudo cloud-init status --long` and /var/log/cloud-init-output.log "
		    "in the guest",
		    c->status, rc);
	if (rc == 2)
		report_warn("cloud-init finished with recoverable errors (status \"%s\"): see "
		            "`inception ssh -- sudo cloud-init status --long`",
		            c->status);
	return 0;
}

int vm_wait_cloud_init(struct up *u, struct err *e)
{
	long t0 = report_now_ms();
	long deadline = t0 + (long)u->cfg->cloud_init_timeout * 1000;
	struct vm_target t;
	struct ci_status c;
	char last[200] = "";
	int rc = -1;

	report_step_begin("cloud-init", "waiting for cloud-init to finish");
	vm_target_from(&u->p, &u->s, 10, &t);
	for (;;) {
		struct err qe = {"", 0};
		long now = report_now_ms();
		char *text = vm_console_since(u->p.console, u->boot_off, last, sizeof(last));

		free(text);
		if (vm_cloud_init_status(&t, 0, now + 30000, &c, &rc, &qe) == 0) {
			if (strcmp(c.status, "running") != 0 &&
			    strcmp(c.status, "not started") != 0 &&
			    strcmp(c.status, "not run") != 0)
				break;
		} else if (qe.code == EXIT_HOSTKEY) {
			*e = qe;
			return vm_step_fail("cloud-init", t0, e);
		} else {
			report_debug("cloud-init status: %s", qe.msg);
		}
		if (now > deadline) {
			err_setc(
			    e, EXIT_TIMEOUT,
			    "cloud-init did not finish within %ds (timeouts.cloud_init); status "
			    "\"%s\". Look at `inception ssh -- sudo cloud-init status --long` and "
			    "/var/log/cloud-init-output.log in the guest, or `inception console`",
			    u->cfg->cloud_init_timeout, c.status);
			return vm_step_fail("cloud-init", t0, e);
		}
		report_status("cloud-init", now - t0, last[0] ? last : c.status);
		sleep_ms(3000);
	}
	if (final_status(&t, deadline, &c, e) < 0)
		return vm_step_fail("cloud-init", t0, e);
	vm_step_ok("cloud-init", t0, c.status[0] ? c.status : "done");
	return 0;
}
