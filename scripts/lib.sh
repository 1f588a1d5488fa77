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
