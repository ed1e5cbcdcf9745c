/*
 * report.h: the one place where the CLI writes to the terminal.
 *
 * Modules never print; the command handlers tell the reporter what happened
 * and it renders it for a person (steps with times, a progress bar on a TTY,
 * plain lines otherwise) or, with --json, as one JSON object per line on
 * stdout.  -q hides everything but errors and results, -v adds debug lines.
 * The reporter is the only global mutable state in the program.
 */
#ifndef INCEPTION_REPORT_H
#define INCEPTION_REPORT_H

#include <stdint.h>
#include <stdio.h>

enum report_mode { REPORT_HUMAN, REPORT_JSON };

/* verbosity: -1 quiet, 0 normal, 1 verbose */
void report_init(enum report_mode mode, int verbosity);
enum report_mode report_mode(void);
int report_verbosity(void);

void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "inception: error: MSG" on stderr (JSON: an "error" event on stdout too). */
void report_error(const char *msg);

/* A step of a long job: begin prints "==> what", end prints the outcome
 * with the elapsed time.  state is "ok", "fail", "skip" or "cached". */
void report_step_begin(const char *step, const char *what);
void report_step_end(const char *step, const char *state, long ms, const char *msg);

/* Progress of a transfer or a wait.  total 0 = unknown.  On a TTY it
 * redraws one line; otherwise it prints at most one line every 5 s. */
void report_progress(const char *what, uint64_t done, uint64_t total);
void report_progress_done(void);

/* Status of a wait: the phase, the time spent so far and a detail line
 * (e.g. the last serial-console line).  TTY: one redrawn line; otherwise at
 * most one line every 10 s; JSON: a "wait" event at most every 2 s.  Ended
 * by report_progress_done() or any other output. */
void report_status(const char *phase, long elapsed_ms, const char *detail);

/* Key/value output (config, status).  Human: aligned columns with the note in
 * brackets; JSON: one object {"key":{"value":...,"note":...}} when any note is
 * given, else {"key":value}.  Values are strings; raw_json values (numbers,
 * booleans) are written as they are in JSON. */
void report_kv_begin(const char *title);
void report_kv(const char *key, const char *value, const char *note);
void report_kv_raw(const char *key, const char *raw_json, const char *note);
void report_kv_end(void);

/* An event from the guest agent, re-encoded from its parsed fields (never
 * the guest's own bytes): JSON {"type":"step","step":...,"state":...,
 * "ms":...,"msg":...,"log":...} (ms left out when < 0, log when empty);
 * human: "start" as report_step_begin, "progress" as an info line, any
 * other state as report_step_end. */
void report_guest_event(const char *step, const char *state, long ms, const char *msg,
                        const char *log);

/* One point of `inception check`.  Human (stdout): a section line when the
 * section changes, then the point, its state (PASS, FAIL, MANUAL, SKIP),
 * whether a FAIL ends the evaluation, and the evidence; JSON: one object
 * {"type":"check","section","point","state","ends_evaluation","evidence"}.
 * Control characters in the evidence are shown as spaces. */
void report_check_row(const char *section, const char *point, const char *state, int ends,
                      const char *evidence);
/* The closing line: counts per state (JSON: a "check-summary" object). */
void report_check_summary(int pass, int fail, int manual, int skip);

/* Writes s as a JSON string literal (with quotes) to f: control characters
 * (C0, DEL, C1) as \u escapes, bytes that are not UTF-8 as U+FFFD. */
void json_write_string(FILE *f, const char *s);

/* Copies s into out (size n, always NUL-terminated, cut at a whole
 * character) for a terminal: a tab becomes a space, other control bytes
 * \xNN, C1 controls \u00NN, bytes that are not UTF-8 \xNN.  Every line of
 * human output goes through it.  Returns the length written. */
size_t report_sanitize(const char *s, char *out, size_t n);

/* Monotonic milliseconds, for step timings. */
long report_now_ms(void);

#endif
