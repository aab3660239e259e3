#!/usr/bin/env bash
# bench/run.sh — build examples/server, start it on 127.0.0.1 over a
# throwaway DATA_DIR, run bench/load against it, stop it.
#
#   bench/run.sh [--postgres DSN | --start-postgres] [--port N] [load flags ...]
#
#   --postgres DSN    use PostgreSQL (DATABASE_URI=DSN) instead of SQLite
#   --start-postgres  start a throwaway PostgreSQL (initdb from PATH or
#                     /usr/lib/postgresql/15/bin; default durability
#                     settings: fsync and synchronous_commit on), use it,
#                     and remove it afterwards
#   --port N          listen port (default 18080)
#   BCRYPT_COST       the server's bcrypt cost (default 12)
#   PASSWORD_HASHER   bcrypt (default) or argon2id; ARGON2_MEMORY_KIB, ARGON2_TIME,
#                     ARGON2_THREADS its parameters (default OWASP's 19456, 2, 1)
#   LOG_LEVEL         the server's log level (default WARNING: no per-request
#                     log lines; INFO logs one line per request)
#
# Everything after the options goes to the load program, e.g.
#   bench/run.sh -duration 5s -label sqlite
# The server's log is printed when the run fails; the load program prints a
# table and a JSON line.
set -euo pipefail

cd "$(dirname "$0")/.."

dsn=""
start_pg=0
port=18080
while [[ $# -gt 0 ]]; do
	case "$1" in
	--postgres) dsn="${2:?--postgres needs a DSN}"; shift 2 ;;
	--start-postgres) start_pg=1; shift ;;
	--port) port="${2:?--port needs a number}"; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
cost="${BCRYPT_COST:-12}"
hasher="${PASSWORD_HASHER:-bcrypt}"
argon_m="${ARGON2_MEMORY_KIB:-19456}"
argon_t="${ARGON2_TIME:-2}"
argon_p="${ARGON2_THREADS:-1}"

work="$(mktemp -d "${TMPDIR:-/tmp}/usermgmt-bench.XXXXXX")"
server_pid=""
pg_data=""

# as_postgres runs a command as the postgres user when we are root
# (PostgreSQL refuses to run as root).
as_postgres() {
	if [[ "$(id -u)" -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cleanup() {
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n "$pg_data" && -f "$pg_data/postmaster.pid" ]]; then
		as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [[ $start_pg -eq 1 ]]; then
	if command -v pg_ctl >/dev/null 2>&1; then
		pg_bin="$(dirname "$(command -v pg_ctl)")"
	else
		pg_bin=/usr/lib/postgresql/15/bin
	fi
	pg_port=$((port + 1))
	pg_data="$work/pg"
	chmod 755 "$work"
	mkdir -p "$pg_data" "$work/pg-socket" "$work/pg-log"
	if [[ "$(id -u)" -eq 0 ]]; then
		chown -R postgres: "$pg_data" "$work/pg-socket" "$work/pg-log"
	fi
	as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --no-locale >"$work/initdb.log" 2>&1 ||
		{ cat "$work/initdb.log" >&2; exit 1; }
	as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg-log/postgres.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg-socket" start >/dev/null ||
		{ cat "$work/pg-log/postgres.log" >&2; exit 1; }
	dsn="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
	echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port (default durability settings)"
fi

echo "building examples/server and bench/load ..."
go build -o "$work/server" ./examples/server
go build -o "$work/load" ./bench/load

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "port $port is already in use; pass --port" >&2
	exit 1
fi

# A random secret for the run; nothing is written outside $work.
secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server_env=(
	"ADDR=127.0.0.1:$port"
	"DATA_DIR=$work/data"
	"BCRYPT_COST=$cost"
	"PASSWORD_HASHER=$hasher"
	"ARGON2_MEMORY_KIB=$argon_m"
	"ARGON2_TIME=$argon_t"
	"ARGON2_THREADS=$argon_p"
	"LOG_LEVEL=${LOG_LEVEL:-WARNING}"
	"JWT_SECRET_KEY=$secret"
	# The load comes from one client address: the per-client limits (on by
	# default, as in the reference) would refuse most of it. Measure the
	# service, not the limiter (BENCHMARKS.md measures that on its own).
	"RATE_LIMITER_ENABLED=${RATE_LIMITER_ENABLED:-false}"
)
if [[ -n "$dsn" ]]; then
	server_env+=("DATABASE_URI=$dsn")
	db="postgres"
else
	db="sqlite"
fi

env "${server_env[@]}" "$work/server" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 150); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "server exited during startup:" >&2
		cat "$work/server.log" >&2
		exit 1
	fi
	sleep 0.2
done

echo "server pid $server_pid on 127.0.0.1:$port, database $db, hasher $hasher (bcrypt cost $cost)"
status=0
"$work/load" -target "http://127.0.0.1:$port" -bcrypt-cost "$cost" -server-pid "$server_pid" \
	-hasher "$hasher" -argon2-memory-kib "$argon_m" -argon2-time "$argon_t" -argon2-threads "$argon_p" \
	-label "$db" "$@" || status=$?

kill -TERM "$server_pid"
if ! wait "$server_pid"; then
	echo "server did not stop cleanly" >&2
	status=1
fi
server_pid=""
if [[ $status -ne 0 ]]; then
	echo "--- server log ---" >&2
	cat "$work/server.log" >&2
fi
exit "$status"
