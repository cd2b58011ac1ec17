-- What the dashboard reads beyond the seed's routes (release 0.11).

-- The table triggers (flowent.on_change) that start workflow `id`, for
-- GET /api/workflows/:id/table-triggers: {triggers: [...]}; a workflow the
-- caller cannot see is not found.
CREATE FUNCTION flowent.api_table_triggers(id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
	PERFORM 1 FROM flowent.workflows w WHERE w.id = api_table_triggers.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow % not found', api_table_triggers.id USING ERRCODE = '42704';
	END IF;
	RETURN jsonb_build_object('triggers', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t."table"::text), '[]'::jsonb)
		FROM flowent.table_triggers t WHERE t.workflow = api_table_triggers.id));
END
$$;
