-- Schedules without pg_cron: this database (contrib_regression) is not
-- cron.database_name, so flowent.schedule checks everything else, then
-- refuses with 55000 naming both databases. Cron expressions are checked
-- strictly, before pg_cron sees them (pg_cron 1.4 misreads 6 fields).
-- The real thing (pg_cron jobs, a schedule firing) is test/scripts/schedule.sh.
\set VERBOSITY terse
SET client_min_messages = warning;

-- 'SQLSTATE: message' of a failing statement (uuids masked), or 'ok: result'.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE q INTO r;
	RETURN 'ok: ' || coalesce(r, 'null');
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
END
$$;

-- ---------------------------------------------------------------- cron expressions
-- accepted, normalised as handed to pg_cron
SELECT e AS cron, pg_temp.try(format('SELECT flowent._cron_check(%L)', e)) AS result FROM (VALUES
	('* * * * *'), ('0 * * * *'), ('  5   4 * * sun  '), (E'*/15\t0-6,18-23 1,15 Jan-Mar,DEC 1-5'),
	('0-59/7 0-23/2 1-31/10 1-12/3 0-7/2'), ('0 12 * * Mon-Fri'), ('0 0 1 jan *'), ('59 23 31 12 7'),
	('00 09 * * 1'), ('*/59 */23 */31 */12 */7'),
	('@hourly'), ('@daily'), ('@midnight'), ('@weekly'), ('@monthly'), ('@yearly'), ('@annually'),
	('@reboot'), ('@restart'), (' @Daily ')) AS t(e);

-- refused: 22023 naming the field and what is allowed
SELECT left(e, 24) AS cron, pg_temp.try(format('SELECT flowent._cron_check(%L)', e)) AS result FROM (VALUES
	('*/5 * * * * *'), ('0 0 0 * * *'), ('5 seconds'), ('30s'), ('1 second'), ('10 minutes'),
	('* * * *'), ('* * * * * * *'), (''), ('   '), ('@every_minute'), ('@daily now'),
	('60 * * * *'), ('* 24 * * *'), ('* * 0 * *'), ('* * 32 * *'), ('* * * 0 *'), ('* * * 13 *'),
	('* * * * 8'), ('5-1 * * * *'), ('* * * Dec-Jan *'), ('*/0 * * * *'), ('1/5 * * * *'),
	('*x * * * *'), ('5; * * * *'), ('1,,2 * * * *'), ('1, * * * *'), ('Mon * * * *'),
	('* * * * Monday'), ('* * * January *'), ('-1 * * * *'), ('99999999999 * * * *'),
	('*/99999999999 * * * *'), ('*/60 * * * *'), ('* * * * */8'), ('* * * * 1-'), ('? * * * *'), ('L * * * *'),
	(repeat('1,', 600) || '1 * * * *')) AS t(e);
SELECT pg_temp.try('SELECT flowent._cron_check(NULL)');

-- ---------------------------------------------------------------- schedule / unschedule
SELECT flowent.create_workflow('Nightly report',
	'[{"id": "t", "type": "trigger", "data": {"triggerType": "schedule"}},
	  {"id": "o", "type": "output", "data": {"value": "{{trigger.payload}}"}}]',
	'[{"id": "e1", "source": "t", "target": "o"}]') AS wf \gset

SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('unknown workflow', $$SELECT flowent.schedule('00000000-0000-0000-0000-000000000001', '* * * * *')$$),
	('null workflow', $$SELECT flowent.schedule(NULL, '* * * * *')$$),
	('unpublished', format('SELECT flowent.schedule(%L, %L)', :'wf', '* * * * *')),
	('unschedule unknown', $$SELECT flowent.unschedule('00000000-0000-0000-0000-000000000001')$$),
	('unschedule null', $$SELECT flowent.unschedule(NULL)$$)) AS t(label, q);

SELECT (flowent.publish(:'wf') ->> 'publishedVersion') AS published_version;

SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('6 fields', format('SELECT flowent.schedule(%L, %L)', :'wf', '*/5 * * * * *')),
	('seconds', format('SELECT flowent.schedule(%L, %L)', :'wf', '5 seconds')),
	('bad hour', format('SELECT flowent.schedule(%L, %L)', :'wf', '0 25 * * *')),
	('null cron', format('SELECT flowent.schedule(%L, NULL)', :'wf')),
	-- a valid expression gets as far as pg_cron: not in this database
	('valid, no pg_cron here', format('SELECT flowent.schedule(%L, %L, %L)', :'wf', '0 3 * * *', '{"day": 1}')),
	('macro, no pg_cron here', format('SELECT flowent.schedule(%L, %L)', :'wf', '@daily')),
	('null payload, no pg_cron here', format('SELECT flowent.schedule(%L, %L, NULL)', :'wf', '0 3 * * *')),
	-- nothing can be scheduled here, so nothing to remove
	('unschedule', format('SELECT flowent.unschedule(%L)', :'wf'))) AS t(label, q);

-- the same refusal in full
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT flowent.schedule(:'wf', '0 3 * * *') IS NULL;
\set VERBOSITY terse

-- the command a job runs (payload and ids quoted with %L)
SELECT flowent._schedule_command('00000000-0000-0000-0000-0000000000aa', '{"it''s": "a \"b\""}', NULL);
SELECT flowent._schedule_command('00000000-0000-0000-0000-0000000000aa', '{}', 'o''brien');

-- the listing works without pg_cron: empty
SELECT count(*) AS schedules FROM flowent.schedules;
SELECT count(*) AS list_schedules FROM flowent.list_schedules();

-- ownership: another role neither sees nor schedules a private workflow,
-- and may not schedule a public one it does not own
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flowent_sched_eve') THEN
		CREATE ROLE flowent_sched_eve NOLOGIN;
	END IF;
END
$$;
SELECT flowent.create_workflow('Public one',
	'[{"id": "t", "type": "trigger", "data": {}}]', '[]', '{"visibility": "public"}') AS pub \gset
SELECT flowent.publish(:'pub') IS NOT NULL AS published;
SET ROLE flowent_sched_eve;
SELECT label, pg_temp.try(q) AS result FROM (VALUES
	('private, other role', format('SELECT flowent.schedule(%L, %L)', :'wf', '* * * * *')),
	('public, other role', format('SELECT flowent.schedule(%L, %L)', :'pub', '* * * * *')),
	('unschedule private', format('SELECT flowent.unschedule(%L)', :'wf')),
	('unschedule public', format('SELECT flowent.unschedule(%L)', :'pub'))) AS t(label, q);
SELECT count(*) AS schedules FROM flowent.schedules;
-- her own published workflow: refused for want of pg_cron, as for a superuser
SELECT flowent.create_workflow('Eve''s', '[{"id": "t", "type": "trigger", "data": {}}]', '[]') AS eves \gset
SELECT flowent.publish(:'eves') IS NOT NULL AS published;
SELECT pg_temp.try(format('SELECT flowent.schedule(%L, %L)', :'eves', '@hourly')) AS result;
SELECT pg_temp.try(format('SELECT flowent.unschedule(%L)', :'eves')) AS result;
SELECT flowent.delete_workflow(:'eves');
RESET ROLE;
-- deleting a workflow works without pg_cron (the unschedule trigger is a no-op)
SELECT flowent.delete_workflow(:'pub');
DROP ROLE flowent_sched_eve;
