#!/usr/bin/env bash
# start | stop: throwaway PostgreSQL and Redis servers on loopback for the test suite.
# Installs the Debian packages when missing. Prints the URLs the tests read
# (TEST_DATABASE_URL, TEST_REDIS_URL) on start.
set -euo pipefail
DIR=${SERVICES_DIR:-/tmp/discussit-services}
PGPORT=${TEST_PGPORT:-55432}
REDISPORT=${TEST_REDISPORT:-56379}
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

install() {
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  if ((${#need[@]})); then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  # The Debian packages start their own servers on the default ports; we use our own instances.
}

as_pg() {  # PostgreSQL refuses to run as root: use the postgres account the package created
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"; mkdir -p "$DIR/pg"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$DIR/pg"
  as_pg "$bin/initdb" -D "$DIR/pg" -A trust -U postgres >/dev/null
  # 400 connections: two test workers at once, each an app (pools of up to 20) and at times
  # several server processes of its own; at 200 a worker was once refused ("too many clients").
  as_pg "$bin/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $PGPORT -k $DIR/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres discussit_test
  redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$PGPORT/discussit_test"
  echo "TEST_REDIS_URL=redis://127.0.0.1:$REDISPORT/0"
}

stop() {
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -f "$DIR/redis.pid" ] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
  [ -d "$DIR/pg" ] && as_pg "$bin/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
}

run() {  # start the servers, run the given command against them, stop them whatever happens
  trap stop EXIT
  local urls; urls=$(start)
  echo "$urls"
  env $urls "$@"
}

"$@"
