/*
 * events.h: what the agent tells the world.
 *
 * Events (machine-readable, for the provisioner) go to stdout, one per line:
 *   {"step":"docker","state":"start","msg":"..."}
 *   {"step":"make","state":"progress","ms":1234,"msg":"last output line"}
 *   {"step":"docker","state":"ok","ms":41234,"msg":"..."}
 *   {"step":"make","state":"fail","ms":5000,"msg":"...","log":"/var/log/inception/make.log"}
 * states: start, progress, ok, cached (already done, verified), fail.
 * Without --json the same events are written as readable lines instead.
 * Free text (ev_log) goes to stderr and is appended to LOG_DIR/agent.log;
 * each step's command output goes to LOG_DIR/STEP.log (and agent.log).
 * stdout write errors (the provisioner went away) are ignored: the agent
 * finishes its step so the state stays true.
 */
#ifndef INCEPTION_AGENT_EVENTS_H
#define INCEPTION_AGENT_EVENTS_H

/* log_dir may be NULL (no log file, e.g. before settings are known). */
void ev_init(int json, const char *log_dir);
void ev_close(void);

void ev_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One event.  ms < 0 = omitted; log may be NULL. */
void ev_emit(const char *step, const char *state, long ms, const char *msg, const char *log);

/* Monotonic milliseconds. */
long ev_now_ms(void);

/* The agent log's path (for messages). */
const char *ev_log_path(void);

#endif
