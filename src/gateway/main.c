/*
 * main.c
 *	  flowent-gateway: serve the API, or create and revoke API tokens.
 *
 *	  flowent-gateway --db CONNINFO [--listen 127.0.0.1:3000] [--web web/dist] ...
 *	  flowent-gateway token create --db CONNINFO --user NAME [--name N] [--expires-in INTERVAL]
 *	  flowent-gateway token revoke --db CONNINFO TOKEN
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/answers.h"
#include "gateway/events.h"
#include "gateway/hook_batch.h"
#include "gateway/http.h"
#include "gateway/loop.h"
#include "gateway/pool.h"
#include "gateway/static_files.h"
#include "gateway/util.h"
#include "gateway/ws.h"

static volatile bool stop_requested;
static volatile bool stopping;

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: flowent-gateway --db CONNINFO [options]\n"
			"       flowent-gateway token create --db CONNINFO --user NAME [--name NAME] [--expires-in INTERVAL]\n"
			"       flowent-gateway token revoke --db CONNINFO TOKEN\n"
			"options:\n"
			"  --listen HOST:PORT       address to serve (default 127.0.0.1:3000)\n"
			"  --web DIR                the built dashboard to serve (default: none)\n"
			"  --pool N                 database connections (default 8)\n"
			"  --body-limit BYTES       largest request body (default 1048576)\n"
			"  --max-connections N      HTTP connections at once (default 1024)\n"
			"  --idle-timeout S         close a connection idle this long, headers included (default 30)\n"
			"  --cors-origin LIST       comma-separated origins allowed by CORS (default: CORS off)\n"
			"  --rate-limit N           requests per second per API token, bursts of 2N; 0: none (default 200)\n"
			"  --answer-cache-mb N      memory for kept GET /api/pipelines answers, served again while\n"
			"                           flowent.change_stamp() holds; 0: none (default 16)\n"
			"  --webhook-batches N      webhook transactions at once; deliveries arriving meanwhile\n"
			"                           share the next one (default 2)\n"
			"  --webhook-batch-size N   most deliveries in one transaction; 1: one each (default 32)\n");
}

static void
on_signal(int sig)
{
	(void) sig;
	stop_requested = true;
}

static PGconn *
connect_or_die(const char *conninfo)
{
	PGconn	   *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK)
	{
		fprintf(stderr, "flowent-gateway: cannot connect: %s", PQerrorMessage(c));
		exit(1);
	}
	return c;
}

static int
token_cmd(int argc, char **argv)
{
	const char *db = NULL,
			   *user = NULL,
			   *name = "default",
			   *expires = NULL;
	bool		create;
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'}, {"user", required_argument, NULL, 'u'},
		{"name", required_argument, NULL, 'n'}, {"expires-in", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}
	};
	int			o;
	PGconn	   *c;
	PGresult   *r;

	if (argc < 3 || (strcmp(argv[2], "create") != 0 && strcmp(argv[2], "revoke") != 0))
	{
		usage(stderr);
		return 2;
	}
	create = strcmp(argv[2], "create") == 0;
	optind = 3;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (o)
		{
			case 'd':
				db = optarg;
				break;
			case 'u':
				user = optarg;
				break;
			case 'n':
				name = optarg;
				break;
			case 'e':
				expires = optarg;
				break;
			default:
				usage(o == 'h' ? stdout : stderr);
				return o == 'h' ? 0 : 2;
		}
	if (db == NULL || (create && user == NULL) || (!create && optind != argc - 1))
	{
		usage(stderr);
		return 2;
	}
	c = connect_or_die(db);
	if (create)
	{
		const char *p[3] = {user, name, expires};

		r = PQexecParams(c, "SELECT flowent.create_api_token($1, $2, $3::interval)", 3, NULL, p, NULL, NULL, 0);
	}
	else
	{
		const char *p[1] = {argv[optind]};

		r = PQexecParams(c, "SELECT flowent.revoke_api_token($1)", 1, NULL, p, NULL, NULL, 0);
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "flowent-gateway: %s", PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(c);
		return 1;
	}
	if (create)
		printf("API token for %s (shown once; the database keeps only its hash):\n%s\n", user, PQgetvalue(r, 0, 0));
	else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
	{
		fprintf(stderr, "flowent-gateway: no such token\n");
		PQclear(r);
		PQfinish(c);
		return 1;
	}
	else
		printf("revoked\n");
	PQclear(r);
	PQfinish(c);
	return 0;
}

static long
number_arg(const char *opt, const char *v, long min, long max)
{
	char	   *end;
	long		n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < min || n > max)
	{
		fprintf(stderr, "flowent-gateway: --%s: expected a number from %ld to %ld, got \"%s\"\n", opt, min, max, v);
		exit(2);
	}
	return n;
}

/* SIGTERM: stop accepting, let requests in flight finish (10 s at most), then close */
static void
drain_check(void *arg)
{
	(void) arg;
	if (gw_http_idle())
		stopping = true;
	else
		gw_timer_add(20, drain_check, NULL);
}

static void
drain_deadline(void *arg)
{
	(void) arg;
	gw_log("shutdown: requests still in flight after 10 s; closing");
	stopping = true;
}

int
main(int argc, char **argv)
{
	gw_config	cfg = {
		.listen_host = "127.0.0.1",.listen_port = 3000,.body_limit = 1 << 20,
		.max_connections = 1024,.idle_timeout_s = 30,.pool_size = 8,.rate_limit = 200,
	};
	static char host[64];
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'}, {"listen", required_argument, NULL, 'l'},
		{"web", required_argument, NULL, 'w'}, {"pool", required_argument, NULL, 'p'},
		{"body-limit", required_argument, NULL, 'b'}, {"max-connections", required_argument, NULL, 'm'},
		{"idle-timeout", required_argument, NULL, 'i'}, {"cors-origin", required_argument, NULL, 'c'},
		{"rate-limit", required_argument, NULL, 'r'}, {"answer-cache-mb", required_argument, NULL, 'a'},
		{"webhook-batches", required_argument, NULL, 'B'}, {"webhook-batch-size", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}
	};
	int			o;
	long		answer_cache_mb = 16;
	int			hook_batches = 2;
	int			hook_batch_size = 32;
	struct sigaction sa = {0};

	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return token_cmd(argc, argv);
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		argv++, argc--;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (o)
		{
			case 'd':
				cfg.conninfo = optarg;
				break;
			case 'l':
				{
					const char *colon = strrchr(optarg, ':');

					if (colon == NULL || colon == optarg || (size_t) (colon - optarg) >= sizeof(host))
					{
						fprintf(stderr, "flowent-gateway: --listen: expected HOST:PORT, got \"%s\"\n", optarg);
						return 2;
					}
					memcpy(host, optarg, colon - optarg);
					cfg.listen_host = host;
					cfg.listen_port = (int) number_arg("listen", colon + 1, 1, 65535);
					break;
				}
			case 'w':
				cfg.web_dir = optarg;
				break;
			case 'p':
				cfg.pool_size = (int) number_arg("pool", optarg, 1, 256);
				break;
			case 'b':
				cfg.body_limit = (size_t) number_arg("body-limit", optarg, 1024, 1L << 30);
				break;
			case 'm':
				cfg.max_connections = (int) number_arg("max-connections", optarg, 1, 100000);
				break;
			case 'i':
				cfg.idle_timeout_s = (int) number_arg("idle-timeout", optarg, 1, 3600);
				break;
			case 'c':
				cfg.cors_origin = optarg;
				break;
			case 'r':
				cfg.rate_limit = (int) number_arg("rate-limit", optarg, 0, 1000000);
				break;
			case 'a':
				answer_cache_mb = number_arg("answer-cache-mb", optarg, 0, 65536);
				break;
			case 'B':
				hook_batches = (int) number_arg("webhook-batches", optarg, 1, 256);
				break;
			case 'S':
				hook_batch_size = (int) number_arg("webhook-batch-size", optarg, 1, 1000);
				break;
			case 'V':
				printf("flowent-gateway %s\n", GW_VERSION);
				return 0;
			default:
				usage(o == 'h' ? stdout : stderr);
				return o == 'h' ? 0 : 2;
		}
	if (cfg.conninfo == NULL || optind != argc)
	{
		usage(stderr);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	gw_loop_init();
	gw_static_init(cfg.web_dir);
	gw_pool_init(cfg.conninfo, cfg.pool_size, 10000);
	gw_answers_init((size_t) answer_cache_mb << 20);
	gw_hook_batch_config(hook_batches, hook_batch_size);
	gw_http_start(&cfg);
	gw_events_start(cfg.conninfo);
	gw_log("flowent-gateway %s listening on http://%s:%d/ (pool %d, body limit %zu bytes)",
		   GW_VERSION, cfg.listen_host, cfg.listen_port, cfg.pool_size, cfg.body_limit);

	gw_loop_run(&stop_requested);
	gw_log("shutdown: no new connections; finishing requests in flight");
	gw_http_quiesce();
	gw_ws_close_all();
	gw_timer_add(10000, drain_deadline, NULL);
	drain_check(NULL);
	gw_loop_run(&stopping);
	gw_http_stop();
	gw_events_stop();
	gw_pool_shutdown();
	gw_answers_shutdown();
	gw_log("shutdown: done");
	return 0;
}
