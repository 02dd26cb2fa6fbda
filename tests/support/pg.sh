# A throw-away PostgreSQL server for tests. Source it from a bash test script:
#
#     . "$top_srcdir/tests/support/pg.sh"
#     pg_start            # exits 77 (skip) when PostgreSQL is not installed
#     ... "$PG_CONNINFO" ...
#     pg_restart          # pg_ctl restart -m fast: clients lose their connections
#
# pg_start runs initdb and pg_ctl from the highest /usr/lib/postgresql/*/bin
# (or $PG_BINDIR) in a fresh temp dir. The server listens on a Unix socket in
# that dir only (listen_addresses=''), so nothing else on the machine can reach
# it and any port number is free; fsync is off because the data is thrown away.
# initdb refuses to run as root, so as root the server runs as `nobody` (the
# temp dir is chowned to it): nothing is created system-wide.
#
# It exports:
#   PG_CONNINFO        the test role with its password (scram-sha-256 required)
#   PG_ADMIN_CONNINFO  the superuser, by trust over the socket (pg_terminate_backend ...)
#   PG_DEAD_CONNINFO   a socket in an empty dir: nothing listens there
#   PG_PASSWORD        the test role's random password, so a test can grep logs for it
#   PG_TEST_DIR, PG_BINDIR, PG_RUN_AS, PG_PORT   for pg_restart/pg_stop in child shells
# and installs a trap that always stops the server and removes the dir. A test
# script with its own EXIT trap must call pg_stop from it.
#
# VALKEYADDON_REQUIRE_POSTGRES=1 (CI) turns "not installed" into a failure.

pg__find_bindir() {
    local dir best="" best_version=-1 version
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$PG_BINDIR/initdb" ] && echo "$PG_BINDIR"
        return 0
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] || continue
        version=${dir#/usr/lib/postgresql/}
        version=${version%%/*}
        version=${version%%.*}
        case "$version" in '' | *[!0-9]*) continue ;; esac
        if [ "$version" -gt "$best_version" ]; then
            best_version=$version
            best=$dir
        fi
    done
    [ -n "$best" ] && echo "$best"
    return 0
}

# Run a PostgreSQL program as the server's owner, from a directory it can read.
pg__as_owner() {
    if [ -n "$PG_RUN_AS" ]; then
        (cd "$PG_TEST_DIR" && runuser -u "$PG_RUN_AS" -- "$@")
    else
        (cd "$PG_TEST_DIR" && "$@")
    fi
}

pg__fail() {
    echo "pg.sh: $*" >&2
    if [ -n "${PG_TEST_DIR:-}" ] && [ -f "$PG_TEST_DIR/server.log" ]; then
        echo "pg.sh: last lines of the server log:" >&2
        tail -n 20 "$PG_TEST_DIR/server.log" >&2
    fi
    exit 1
}

pg_start() {
    local bindir password
    bindir=$(pg__find_bindir)
    if [ -z "$bindir" ]; then
        if [ "${VALKEYADDON_REQUIRE_POSTGRES:-}" = 1 ]; then
            echo "FAIL: PostgreSQL server binaries not found (install the Debian package postgresql)" >&2
            exit 1
        fi
        echo "SKIP: PostgreSQL server binaries not found (install the Debian package postgresql)"
        exit 77
    fi
    export PG_BINDIR=$bindir
    PG_RUN_AS=""
    if [ "$(id -u)" = 0 ]; then
        PG_RUN_AS=nobody
        command -v runuser > /dev/null 2>&1 || pg__fail "running as root needs runuser (util-linux) to start PostgreSQL as nobody"
    fi
    export PG_RUN_AS
    # /tmp, not TMPDIR: a Unix socket path must stay under about 100 bytes.
    PG_TEST_DIR=$(mktemp -d /tmp/vka-pg.XXXXXX) || pg__fail "mktemp failed"
    export PG_TEST_DIR
    trap pg_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir "$PG_TEST_DIR/data" "$PG_TEST_DIR/dead"
    chmod 700 "$PG_TEST_DIR"
    [ -n "$PG_RUN_AS" ] && chown -R "$PG_RUN_AS" "$PG_TEST_DIR"
    # The socket dir is private, so any port number names a free socket; a random one eases reading logs.
    export PG_PORT=$((20000 + $$ % 20000))

    password="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    export PG_PASSWORD=$password
    pg__as_owner "$PG_BINDIR/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
        --no-sync > "$PG_TEST_DIR/initdb.log" 2>&1 || { cat "$PG_TEST_DIR/initdb.log" >&2; pg__fail "initdb failed"; }
    cat >> "$PG_TEST_DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PG_TEST_DIR'
port = $PG_PORT
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
password_encryption = 'scram-sha-256'
EOF
    # The test role must give its password; the superuser connects by trust over the private socket.
    cat > "$PG_TEST_DIR/data/pg_hba.conf" <<EOF
local all valkeyaddon_test scram-sha-256
local all all trust
EOF
    pg__as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 start \
        > /dev/null || pg__fail "pg_ctl start failed"
    # The password goes to psql on stdin, never in argv (ps shows argv).
    printf "CREATE ROLE valkeyaddon_test LOGIN PASSWORD '%s';\nCREATE DATABASE valkeyaddon OWNER valkeyaddon_test;\n" \
        "$password" | pg__as_owner "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_TEST_DIR" -p "$PG_PORT" \
        -U postgres -d postgres > /dev/null || pg__fail "creating the test role failed"
    export PG_CONNINFO="host=$PG_TEST_DIR port=$PG_PORT dbname=valkeyaddon user=valkeyaddon_test password=$password"
    export PG_ADMIN_CONNINFO="host=$PG_TEST_DIR port=$PG_PORT dbname=valkeyaddon user=postgres"
    export PG_DEAD_CONNINFO="host=$PG_TEST_DIR/dead port=$PG_PORT dbname=valkeyaddon user=valkeyaddon_test password=$password"
}

# Restart with -m fast: the server disconnects every client, as a failover or an upgrade does.
pg_restart() {
    pg__as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 -m fast \
        restart > /dev/null || pg__fail "pg_ctl restart failed"
}

# Run SQL as the superuser (psql, quiet, stops at the first error).
pg_psql() {
    pg__as_owner "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_TEST_DIR" -p "$PG_PORT" -U postgres \
        -d valkeyaddon "$@"
}

pg_stop() {
    [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ] || return 0
    if [ -f "$PG_TEST_DIR/data/postmaster.pid" ]; then
        pg__as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w -t 30 stop > /dev/null 2>&1 || true
    fi
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=""
}

# Run as a script (`bash pg.sh restart|stop|start`) by a test program that
# needs the server bounced between two calls, or `bash pg.sh psql ARGS...` to
# query it as the superuser; the state comes from the environment pg_start exported.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -eu
    case "${1:-}" in
    restart) pg_restart ;;
    psql)
        shift
        pg_psql "$@"
        ;;
    stop)
        pg__as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -w -t 30 -m fast stop > /dev/null ||
            pg__fail "pg_ctl stop failed"
        ;;
    start)
        pg__as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 start \
            > /dev/null || pg__fail "pg_ctl start failed"
        ;;
    *)
        echo "usage: bash pg.sh restart|stop|start|psql ARGS... (after pg_start exported PG_TEST_DIR)" >&2
        exit 2
        ;;
    esac
fi
