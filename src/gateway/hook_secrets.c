/*
 * hook_secrets.c
 *	  A fixed table of workflow id -> webhook secret (the gateway is one
 *	  thread: no locking).  Freed secrets are wiped first.
 */
#include "gateway/hook_secrets.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
	char		id[37];
	char	   *secret;
} slot;

static slot slots[GW_HOOK_SECRETS_SLOTS];

static slot *
slot_of(const char *id)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < 36 && id[i]; i++)
		h = (h ^ (unsigned char) id[i]) * 16777619u;
	return &slots[h % GW_HOOK_SECRETS_SLOTS];
}

static void
clear(slot *s)
{
	if (s->secret)
	{
		OPENSSL_cleanse(s->secret, strlen(s->secret));
		free(s->secret);
	}
	s->secret = NULL;
	s->id[0] = '\0';
}

const char *
gw_hook_secret_get(const char *id)
{
	slot	   *s = slot_of(id);

	return s->secret && strncmp(s->id, id, 36) == 0 && strlen(id) == 36 ? s->secret : NULL;
}

void
gw_hook_secret_put(const char *id, const char *secret)
{
	slot	   *s = slot_of(id);
	char	   *copy;

	if (strlen(id) != 36 || (copy = strdup(secret)) == NULL)
		return;
	clear(s);
	memcpy(s->id, id, 36);
	s->id[36] = '\0';
	s->secret = copy;
}

void
gw_hook_secret_drop(const char *id)
{
	slot	   *s = slot_of(id);

	if (s->secret && strncmp(s->id, id, 36) == 0)
		clear(s);
}
