-- The peers' workload (../shared/peers/README.md) as a Flowent workflow:
-- trigger -> transform (doubled = value * 2) -> condition (doubled >= 100)
-- -> set tier high / low -> output {id, value, doubled, tier}.  Prints its id.
-- Used by bench/events.sh and test/scripts/events_load.sh.
SELECT flowent.create_workflow('peers',
 '[{"id":"t","type":"trigger","data":{}},
   {"id":"x","type":"data-transform","data":{"expression":"input || jsonb_build_object(''doubled'', (input->>''value'')::int * 2)"}},
   {"id":"c","type":"condition","data":{"conditions":[{"left":"{{x.doubled}}","operator":"gte","right":100}]}},
   {"id":"hi","type":"set-variable","data":{"name":"tier","value":"high"}},
   {"id":"lo","type":"set-variable","data":{"name":"tier","value":"low"}},
   {"id":"o","type":"output","data":{"value":{"id":"{{trigger.payload.id}}","value":"{{trigger.payload.value}}","doubled":"{{x.doubled}}","tier":"{{variables.tier}}"}}}]',
 '[{"id":"e1","source":"t","target":"x"},{"id":"e2","source":"x","target":"c"},
   {"id":"e3","source":"c","sourceHandle":"true","target":"hi"},
   {"id":"e4","source":"c","sourceHandle":"false","target":"lo"},
   {"id":"e5","source":"hi","target":"o"},{"id":"e6","source":"lo","target":"o"}]');
