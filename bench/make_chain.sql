-- flowent.bench_chain(n, kind): trigger -> n-2 nodes of `kind` -> output
CREATE OR REPLACE FUNCTION bench_chain(n int, kind text) RETURNS uuid
LANGUAGE sql AS $$
	SELECT flowent.create_workflow('bench chain ' || n || ' ' || kind,
		jsonb_build_array(jsonb_build_object('id', 'n0', 'type', 'trigger', 'data', '{}'::jsonb))
		|| coalesce((SELECT jsonb_agg(jsonb_build_object('id', 'n' || i, 'type', kind, 'data',
				CASE kind
				WHEN 'set-variable' THEN jsonb_build_object('name', 'v' || i, 'value', '{{trigger.payload.amount}}')
				ELSE jsonb_build_object('conditions', jsonb_build_array(jsonb_build_object(
					'left', '{{trigger.payload.amount}}', 'operator', 'gt', 'right', 10)))
				END) ORDER BY i) FROM generate_series(1, n - 2) i), '[]')
		|| jsonb_build_array(jsonb_build_object('id', 'n' || (n - 1), 'type', 'output', 'data', '{}'::jsonb)),
		(SELECT jsonb_agg(jsonb_build_object('id', 'e' || i, 'source', 'n' || i, 'target', 'n' || (i + 1),
			'sourceHandle', CASE WHEN kind = 'condition' AND i > 0 THEN 'true' END) ORDER BY i)
		 FROM generate_series(0, n - 2) i))
$$;

-- The 10-node pure workflow of the issue: trigger -> data-transform ->
-- condition -> six set-variables -> output.
CREATE OR REPLACE FUNCTION bench_ten() RETURNS uuid
LANGUAGE sql AS $$
	SELECT flowent.create_workflow('bench ten',
		'[{"id":"t","type":"trigger","data":{}},
		  {"id":"x","type":"data-transform","data":{"expression":"jsonb_build_object(''total'', (input->>''amount'')::numeric * 2)"}},
		  {"id":"c","type":"condition","data":{"conditions":[{"left":"{{x.total}}","operator":"gt","right":100}]}},
		  {"id":"s1","type":"set-variable","data":{"name":"v1","value":1}},
		  {"id":"s2","type":"set-variable","data":{"name":"v2","value":"{{x.total}}"}},
		  {"id":"s3","type":"set-variable","data":{"name":"v3","value":"{{c.result}}"}},
		  {"id":"s4","type":"set-variable","data":{"name":"v4","value":"n={{v2}}"}},
		  {"id":"s5","type":"set-variable","data":{"name":"v5","value":5}},
		  {"id":"s6","type":"set-variable","data":{"name":"v6","value":6}},
		  {"id":"o","type":"output","data":{"value":{"total":"{{x.total}}","big":"{{c.result}}"}}}]',
		'[{"id":"e1","source":"t","target":"x"},{"id":"e2","source":"x","target":"c"},
		  {"id":"e3","source":"c","sourceHandle":"true","target":"s1"},
		  {"id":"e3b","source":"c","sourceHandle":"false","target":"s1"},
		  {"id":"e4","source":"s1","target":"s2"},{"id":"e5","source":"s2","target":"s3"},
		  {"id":"e6","source":"s3","target":"s4"},{"id":"e7","source":"s4","target":"s5"},
		  {"id":"e8","source":"s5","target":"s6"},{"id":"e9","source":"s6","target":"o"}]')
$$;
