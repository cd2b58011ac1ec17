/*
 * listen.c
 *	  A LISTEN client for tests and benchmarks: prints every notification on
 *	  a channel as "<receive time, µs since the epoch> <payload>" per line.
 *
 *	  listen CHANNEL IDLE_MS MAX_MS   (connection from the PG* environment)
 *
 * Writes "listening" to stderr once LISTEN is in effect; stops after IDLE_MS
 * without a notification (once one arrived, or MAX_MS in all).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include <libpq-fe.h>

static long long
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long) tv.tv_sec * 1000000 + tv.tv_usec;
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	PGresult   *res;
	char		sql[256];
	long long	idle_us,
				max_us,
				start,
				last;
	int			got = 0;

	if (argc != 4)
	{
		fprintf(stderr, "usage: listen CHANNEL IDLE_MS MAX_MS\n");
		return 2;
	}
	idle_us = atoll(argv[2]) * 1000;
	max_us = atoll(argv[3]) * 1000;
	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "listen: %s", PQerrorMessage(conn));
		return 1;
	}
	snprintf(sql, sizeof(sql), "LISTEN \"%s\"", argv[1]);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "listen: %s", PQerrorMessage(conn));
		return 1;
	}
	PQclear(res);
	fprintf(stderr, "listening\n");
	start = last = now_us();
	for (;;)
	{
		int			sock = PQsocket(conn);
		fd_set		in;
		struct timeval tv = {0, 20000};
		PGnotify   *n;
		long long	t;

		FD_ZERO(&in);
		FD_SET(sock, &in);
		if (select(sock + 1, &in, NULL, NULL, &tv) < 0 && errno != EINTR)
			return 1;
		if (!PQconsumeInput(conn))
		{
			fprintf(stderr, "listen: %s", PQerrorMessage(conn));
			return 1;
		}
		t = now_us();
		while ((n = PQnotifies(conn)) != NULL)
		{
			printf("%lld %s\n", t, n->extra);
			PQfreemem(n);
			got++;
			last = t;
		}
		if (t - start > max_us || (got > 0 && t - last > idle_us))
			break;
	}
	fflush(stdout);
	PQfinish(conn);
	return 0;
}
