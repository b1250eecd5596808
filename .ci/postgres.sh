# Sourced by .ci/run: a throwaway PostgreSQL on 127.0.0.1 for the service tests.
# pg_start installs Debian's postgresql if needed, creates a cluster in a temporary folder (owned
# by the postgres user when running as root: initdb refuses root), starts it on a free loopback
# port, creates the database wfm_test and exports WFM_TEST_POSTGRES_URL. pg_stop stops it and
# removes the folder. Every step returns 1 on failure (the caller prints a warning and the
# PostgreSQL tests are skipped, visibly).

PG_DIR=""
PG_BIN=""
PG_AS=()

pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_start() {
  PG_BIN="$(pg_bindir)"
  if [ -z "$PG_BIN" ]; then
    command -v apt-get >/dev/null 2>&1 || { echo "no apt-get to install postgresql"; return 1; }
    local sudo=""
    if [ "$(id -u)" != "0" ]; then
      command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo"; return 1; }
      sudo="sudo -n"
    fi
    { DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        postgresql; } >/tmp/ci-postgres-install.log 2>&1 \
      || { echo "apt-get install postgresql failed (/tmp/ci-postgres-install.log)"; return 1; }
    PG_BIN="$(pg_bindir)"
    [ -n "$PG_BIN" ] || { echo "postgresql installed but no server binaries found"; return 1; }
  fi
  PG_DIR="$(mktemp -d /tmp/wfm-pg.XXXXXX)" || return 1
  PG_AS=()
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || { echo "running as root but there is no postgres user"; return 1; }
    chown postgres "$PG_DIR" || return 1
    PG_AS=(runuser -u postgres --)
  fi
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" || return 1
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U wfm --auth=trust -E UTF8 --no-locale \
    >"$PG_DIR/initdb.log" 2>&1 || { echo "initdb failed: $(tail -n 3 "$PG_DIR/initdb.log")"; return 1; }
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c full_page_writes=off" \
    start >/dev/null 2>&1 || { echo "pg_ctl start failed: $(tail -n 3 "$PG_DIR/server.log")"; return 1; }
  "${PG_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U wfm wfm_test \
    || { echo "createdb failed"; return 1; }
  export WFM_TEST_POSTGRES_URL="postgresql://wfm@127.0.0.1:$port/wfm_test"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for the tests"
}

pg_stop() {
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
  PG_DIR=""
}
