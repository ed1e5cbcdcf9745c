/*
 * engine.h: questions to the Docker engine over its socket (/run/docker.sock),
 * with libcurl: asking dockerd itself takes milliseconds, where starting the
 * docker CLI takes seconds in a TCG guest.
 *
 * The project's containers are found by the labels compose puts on them,
 * never by name: com.docker.compose.project.working_dir equal to the
 * directory of TREE/COMPOSE, or com.docker.compose.project.config_files
 * equal to TREE/COMPOSE, or working_dir equal to TREE (a Makefile that
 * passes --project-directory, with one compose file or several), each
 * service by com.docker.compose.service.  The engine does the matching
 * (GET /containers/json with label, status and health filters), so the
 * answers are only counted, never parsed beyond that.
 */
#ifndef INCEPTION_AGENT_ENGINE_H
#define INCEPTION_AGENT_ENGINE_H

#include <stddef.h>

#include "buf.h"
#include "settings.h"

/* The engine's socket; tests point it elsewhere with INCEPTION_DOCKER_SOCK. */
const char *engine_sock(void);

/* 1 when the engine answers GET /_ping. */
int engine_answers(void);

/* One GET; the body kept in *m when m is not NULL.  The HTTP status, 0
 * when the engine does not answer. */
long engine_get(const char *path, struct buf *m);

/* GET /images/TAG/json: 1 when the engine has the image. */
int image_present(const char *tag);

/* Where the project's containers are, for the label filters: the realpath
 * of the directory of TREE/COMPOSE, of TREE/COMPOSE itself, and of TREE. */
struct project_ref {
	char working_dir[4096];
	char config_file[4096];
	char tree[4096]; /* working_dir of a Makefile passing --project-directory . */
};
void project_ref(const struct settings *s, struct project_ref *p);

/* Checks every service of `services` (or, when it is empty, every container
 * of the project): each must have a running container, healthy where it has
 * a health check.  Returns 0 when all are, 1 when not (why: "php: not
 * running; web: no container"), -1 when the engine does not answer.  *n_ok
 * (may be NULL) gets the number of services (containers) found well. */
int services_check(const struct settings *s, const struct project_ref *p, char *why, size_t n,
                   int *n_ok);

/* The running container of the project that publishes host port `port`:
 * its id (64 hex) and compose service name.  0 found, 1 none, -1 engine. */
int project_publisher(const struct project_ref *p, int port, char *id, size_t idn, char *service,
                      size_t sn);

#endif
