/*
 * libFuzzer target: the webhook signature headers.  Input: timestamp
 * header, NUL, signature header, NUL, body.  Checks that parsing never
 * reads out of bounds and that a signature computed for the input verifies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/signature.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 2);
	const char *ts,
			   *sig,
			   *body;
	size_t		tl,
				sl;
	uint8_t		mac[32];
	char		hex[7 + 64 + 1];
	int64_t		t;

	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	ts = buf;
	tl = strlen(ts);
	sig = tl < size ? buf + tl + 1 : buf + size;
	sl = strlen(sig);
	body = (size_t) (sig - buf) + sl < size ? sig + sl + 1 : buf + size + 1;
	(void) gw_sig_check("secret", ts, sig, body, strlen(body), 1700000000, 300);
	if (gw_sig_parse_ts(ts, &t))
	{
		gw_sig_compute("secret", ts, body, strlen(body), mac);
		memcpy(hex, "sha256=", 7);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 7 + 2 * i, 3, "%02x", mac[i]);
		if (gw_sig_check("secret", ts, hex, body, strlen(body), t, 300) != SIG_OK)
			abort();
	}
	free(buf);
	return 0;
}
