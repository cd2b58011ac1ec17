/*
 * hook_secrets.h
 *	  The webhook secrets the gateway has verified signatures with, by
 *	  workflow id, so that a webhook needs one transaction instead of two.
 *	  A cached secret is only a guess: the delivery checks its digest
 *	  against the workflow's current secret in the same transaction, so a
 *	  rotation or an unpublish is seen at once.  Bounded: a slot per hash of
 *	  the id, a newer secret replacing an older one.
 */
#ifndef GW_HOOK_SECRETS_H
#define GW_HOOK_SECRETS_H

#define GW_HOOK_SECRETS_SLOTS 1024

/* the secret remembered for workflow id (36 characters), or NULL */
const char *gw_hook_secret_get(const char *id);
void		gw_hook_secret_put(const char *id, const char *secret);
void		gw_hook_secret_drop(const char *id);

#endif
