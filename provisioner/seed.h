/*
 * seed.h: the cloud-init NoCloud seed of one VM.
 *
 * The templates cloud-init/{user-data,meta-data,network-config} are YAML
 * documents; a plain scalar "${name}" in them is replaced by a value written
 * with libyaml's emitter (a string, or a list), never pasted into text.  A
 * mapping entry whose value is an unset placeholder is left out.  The result
 * is packed with xorriso into an ISO labelled "cidata".  The seed holds the
 * guest's private host key, so every file is 0600.
 */
#ifndef INCEPTION_SEED_H
#define INCEPTION_SEED_H

#include <stddef.h>

#include "config.h"
#include "err.h"

/* Renders the seed for c with the keys in state_dir (see keys.h; run
 * keys_ensure first) and writes the ISO to iso_path (0600).  Every call makes
 * a new instance-id.  with_packages: the seed lists the packages the agent
 * needs for cloud-init to install (a downloaded cloud image); 0 for an image
 * that has them already (ours, built by image-build.sh), which spares the
 * guest cloud-init's `apt-get update`. */
int seed_build(const struct config *c, const char *state_dir, const char *iso_path,
               int with_packages, struct err *e);

/* --- exposed for tests --- */

/* One placeholder value: a string (list NULL) or a list of strings
 * (NULL-terminated).  Both NULL = unset. */
struct seed_var {
	const char *name;
	const char *str;
	const char *const *list;
};

/* Renders the YAML template text with vars; *out is malloc'ed.  header (may
 * be NULL) is written before the document, e.g. "#cloud-config\n". */
int seed_render(const char *tmpl, size_t len, const char *tmpl_name, const struct seed_var *vars,
                size_t nvars, const char *header, char **out, size_t *out_len, struct err *e);

/* Where the data files are (the cloud-init/ templates, image-build.sh, the
 * agent's sources): $INCEPTION_DATADIR, else the source tree the binary was
 * built in (build/inception), else PREFIX/share/inception for an installed
 * PREFIX/bin/inception (`make install`).  rel is e.g. "cloud-init/user-data". */
int data_path(const char *rel, char *buf, size_t n, struct err *e);

#endif
