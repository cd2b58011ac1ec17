/*
 * libFuzzer target: the kept answers' store and its stamp parser.  Input:
 * lines of operations, "p KEY STAMP BODY" (keep), "g KEY" (get), "s STAMP"
 * (a stamp read), against a small budget.  Checks that a kept answer is
 * given back only under the newest stamp seen, byte for byte, and that the
 * store stays within its budget.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/answers.h"

#define BUDGET 4096

/* epoch.count of a stamp, as numbers (the store compares them so) */
static void
numbers(const char *s, unsigned long long *e, unsigned long long *c)
{
	char	   *end;

	*e = strtoull(s, &end, 10);
	*c = *end == '.' ? strtoull(end + 1, NULL, 10) : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size + 1);
	char	   *line,
			   *save = NULL;
	unsigned long long ne = 0,
				nc = 0,
				e,
				c;

	memcpy(in, data, size);
	in[size] = '\0';
	gw_answers_init(BUDGET);
	for (line = strtok_r(in, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char	   *key = line + 1 + (line[1] == ' ');
		char	   *sp = strchr(key, ' ');

		if (line[0] == 's')
		{
			if (gw_answers_note_stamp(key))
				numbers(key, &ne, &nc);
		}
		else if (line[0] == 'p' && sp)
		{
			char	   *stamp = sp + 1;
			char	   *body = strchr(stamp, '|');
			const gw_answer *a;

			*sp = '\0';
			if (body == NULL)
				continue;
			*body++ = '\0';
			gw_answers_put(key, stamp, body, strlen(body));
			a = gw_answers_get(key);
			/* kept under the newest stamp: exactly this answer (else the older one stays, or none) */
			if (gw_answers_note_stamp(stamp))
			{
				numbers(stamp, &ne, &nc);
				if (a && (a->len != strlen(body) || memcmp(a->body, body, a->len) != 0 || strcmp(a->stamp, stamp) != 0))
					abort();
			}
		}
		else if (line[0] == 'g')
		{
			const gw_answer *a = gw_answers_get(key);

			/* whatever is kept was made under the newest stamp */
			if (a)
			{
				numbers(a->stamp, &e, &c);
				if (e != ne || c != nc)
					abort();
			}
		}
		if (gw_answers_get_stats().bytes > BUDGET)
			abort();
	}
	gw_answers_shutdown();
	gw_answers_init(0);
	free(in);
	return 0;
}
