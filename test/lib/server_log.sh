# Sourced by test scripts: what the server logged from log_mark on (the
# cluster's log file, read where the server writes it).
log_mark() {
	SERVER_LOG=$(psql -X -At -d postgres -c "SELECT current_setting('data_directory') || '/' || pg_current_logfile()")
	LOG_FROM=$(($(wc -c <"$SERVER_LOG") + 1))
}
log_since_mark() { tail -c +"$LOG_FROM" "$SERVER_LOG"; }
