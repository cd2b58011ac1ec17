-- flowent 0.3 -> 0.4 (issue 7):
-- * node logs are indexed by scope (execution, iteration, seq) and the
--   waiting rows by node, so continuing a loop that suspended in its n-th
--   item does not read the rows of the n-1 before it; iterations compare
--   bytewise (COLLATE "C") so a loop's iterations are one index range.
\echo Use "ALTER EXTENSION flowent UPDATE TO '0.4'" to load this file. \quit

DROP INDEX flowent.workflow_node_logs_execution_id_seq_idx;
ALTER TABLE flowent.workflow_node_logs ALTER COLUMN iteration TYPE text COLLATE "C";
CREATE INDEX ON flowent.workflow_node_logs (execution_id, iteration, seq);
CREATE INDEX ON flowent.workflow_node_logs (execution_id, node_id) WHERE status = 'waiting';
