# shellcheck shell=bash
# Shared by scripts/run and scripts/test: find what Andon needs on this machine, and
# install or start what is missing (Debian's packages; root or sudo for installs).

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "root is needed to run: $*"; fi
}

APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
  if [ -z "$APT_UPDATED" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The Rust toolchain cannot come from Debian (too old); everything it builds against can.
ensure_rust() {
  command -v cargo >/dev/null 2>&1 \
    || die "cargo not found: install Rust 1.95 or newer with rustup (https://rustup.rs)"
  command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
  if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openssl; then
    apt_install pkg-config libssl-dev
  fi
}

# Sets ANDON_BIN to the `andon` binary exactly as `cargo test` builds it for its
# integration tests, so the test command compiles the dependency tree once: after
# `cargo test` this is a no-op. (`cargo build --bin andon` leaves out what the
# dev-dependencies and the other workspace members add to shared crates' features
# — tokio's test-util, reqwest's multipart and stream — and so compiles ~400 crates
# a second time.) The target directory is cargo's own answer, wherever it is set.
build_andon_as_tested() {
  ensure_rust
  log "building Andon (as cargo test does: one build)"
  cargo test --workspace --locked --no-run --quiet
  local target
  target=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  ANDON_BIN="$target/debug/andon"
}

PG_HOST=127.0.0.1
PG_PORT=${PGPORT:-5432}

pg_port_open() { (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null; }

# Sets PG_ADMIN_URL to a role that may create databases on a running PostgreSQL,
# installing and starting PostgreSQL first when none answers on $PG_HOST:$PG_PORT.
ensure_postgres() {
  if ! pg_port_open; then
    if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
      apt_install postgresql
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
      || as_root pg_ctlcluster "$version" main start
    for _ in $(seq 1 50); do pg_port_open && break; sleep 0.2; done
    pg_port_open || die "PostgreSQL did not start on $PG_HOST:$PG_PORT"
  fi
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client

  if psql -w "postgresql://postgres@$PG_HOST:$PG_PORT/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    PG_ADMIN_URL="postgresql://postgres@$PG_HOST:$PG_PORT/postgres"
  else
    # A stock Debian PostgreSQL wants passwords over TCP: make a development role
    # through the local socket, as the postgres system user.
    log "creating the development role 'andon'"
    as_root runuser -u postgres -- psql -qAt -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'andon') THEN
          CREATE ROLE andon LOGIN CREATEDB PASSWORD 'andon';
        END IF; END \$\$" >/dev/null
    PG_ADMIN_URL="postgresql://andon:andon@$PG_HOST:$PG_PORT/postgres"
    psql -w "$PG_ADMIN_URL" -Atqc 'SELECT 1' >/dev/null \
      || die "cannot connect to PostgreSQL as 'andon' on $PG_HOST:$PG_PORT"
  fi
  export PG_ADMIN_URL
}

# The URL of database $1 on the same server and role as PG_ADMIN_URL.
pg_url_for() { printf '%s/%s' "${PG_ADMIN_URL%/postgres}" "$1"; }

# A one-node Garage (S3-compatible server) for the S3 tests, in a data directory of
# its own that every start wipes. Installed from crates.io when missing (about 11
# minutes once per machine). Exports ANDON_TEST_S3_*.
GARAGE_VERSION=2.5.0
GARAGE_DIR=${ANDON_GARAGE_DIR:-/tmp/andon-garage}
# Below the kernel's ephemeral port range (32768+), so no test server's port 0
# can take them first.
GARAGE_S3_PORT=3900
ensure_garage() {
  if ! command -v garage >/dev/null 2>&1; then
    log "installing Garage $GARAGE_VERSION (cargo install, about 11 minutes)"
    cargo install --locked "garage@$GARAGE_VERSION"
  fi
  if [ -f "$GARAGE_DIR/garage.pid" ]; then
    kill "$(cat "$GARAGE_DIR/garage.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  rm -rf "$GARAGE_DIR"
  mkdir -p "$GARAGE_DIR"
  local cfg="$GARAGE_DIR/garage.toml"
  cat > "$cfg" <<TOML
metadata_dir = "$GARAGE_DIR/meta"
data_dir = "$GARAGE_DIR/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3901"
rpc_public_addr = "127.0.0.1:3901"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$GARAGE_S3_PORT"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:3903"
admin_token = "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
TOML
  garage -c "$cfg" server >"$GARAGE_DIR/garage.log" 2>&1 &
  echo $! >"$GARAGE_DIR/garage.pid"
  for _ in $(seq 1 100); do garage -c "$cfg" status >/dev/null 2>&1 && break; sleep 0.1; done
  garage -c "$cfg" status >/dev/null 2>&1 || die "Garage did not start; see $GARAGE_DIR/garage.log"
  local node
  node=$(garage -c "$cfg" node id -q 2>/dev/null | cut -d@ -f1)
  garage -c "$cfg" layout assign -z dc1 -c 1G "$node" >/dev/null
  garage -c "$cfg" layout apply --version 1 >/dev/null
  ANDON_TEST_S3_ACCESS_KEY="GK$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  ANDON_TEST_S3_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  garage -c "$cfg" key import --yes -n andon-test "$ANDON_TEST_S3_ACCESS_KEY" "$ANDON_TEST_S3_SECRET_KEY" >/dev/null
  garage -c "$cfg" key allow --create-bucket andon-test >/dev/null
  (exec 3<>"/dev/tcp/127.0.0.1/$GARAGE_S3_PORT") 2>/dev/null \
    || die "Garage's S3 API is not listening on port $GARAGE_S3_PORT; see $GARAGE_DIR/garage.log"
  export ANDON_TEST_S3_ENDPOINT="http://127.0.0.1:$GARAGE_S3_PORT"
  export ANDON_TEST_S3_REGION=garage
  export ANDON_TEST_S3_ACCESS_KEY ANDON_TEST_S3_SECRET_KEY
  log "Garage running on $ANDON_TEST_S3_ENDPOINT (data in $GARAGE_DIR)"
}

# A NATS server for the cluster tests: the one on 127.0.0.1:4222 when it runs,
# otherwise our own (Debian's nats-server, installed when missing) on a port of
# its own. Exports ANDON_TEST_NATS_URL.
NATS_PORT=${ANDON_NATS_PORT:-14222}
NATS_DIR=${ANDON_NATS_DIR:-/tmp/andon-nats}
ensure_nats() {
  if (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
    export ANDON_TEST_NATS_URL=nats://127.0.0.1:4222
    return
  fi
  export ANDON_TEST_NATS_URL="nats://127.0.0.1:$NATS_PORT"
  (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && return
  command -v nats-server >/dev/null 2>&1 || apt_install nats-server
  mkdir -p "$NATS_DIR"
  log "starting nats-server on port $NATS_PORT"
  nats-server -a 127.0.0.1 -p "$NATS_PORT" >"$NATS_DIR/nats.log" 2>&1 &
  echo $! >"$NATS_DIR/nats.pid"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && return
    sleep 0.1
  done
  die "nats-server did not start; see $NATS_DIR/nats.log"
}

stop_nats() {
  if [ -f "$NATS_DIR/nats.pid" ]; then
    kill "$(cat "$NATS_DIR/nats.pid")" 2>/dev/null || true
    rm -f "$NATS_DIR/nats.pid"
  fi
}

stop_garage() {
  if [ -f "$GARAGE_DIR/garage.pid" ]; then
    kill "$(cat "$GARAGE_DIR/garage.pid")" 2>/dev/null || true
    rm -f "$GARAGE_DIR/garage.pid"
  fi
}
