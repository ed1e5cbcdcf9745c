/*
 * keys.h: the SSH keys of one VM, generated with libssh's pki API.
 *
 * In the VM's state dir (mode 0700), each file 0600:
 *   id_ed25519, id_ed25519.pub                      the user key we log in with
 *   ssh_host_ed25519_key, ssh_host_ed25519_key.pub  the guest's host key: it
 *       goes into the cloud-init seed, so the provisioner knows (pins) it
 *       before the first connection
 * Existing keys are never regenerated.
 */
#ifndef INCEPTION_KEYS_H
#define INCEPTION_KEYS_H

#include "err.h"

#define KEYS_USER "id_ed25519"
#define KEYS_USER_PUB "id_ed25519.pub"
#define KEYS_HOST "ssh_host_ed25519_key"
#define KEYS_HOST_PUB "ssh_host_ed25519_key.pub"

/* Creates state_dir (0700) and any missing key pair in it. */
int keys_ensure(const char *state_dir, struct err *e);

#endif
