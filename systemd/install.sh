#!/bin/sh
# Install terminal-agent on a till (Debian 12): the system user, the program, the config, the
# password file, the systemd units and the daily backup timer; then enable them. Safe to run
# again: an upgrade installs the new version beside the old one and switches to it, never
# overwrites config.toml or the password file. See docs/DEPLOY.md.
#
#   sudo systemd/install.sh [--root DIR] [--project DIR] [--wheelhouse DIR] [--python PY]
#                           [--no-enable] [--skip-pip] [--init]
#   sudo systemd/install.sh --rollback [--root DIR]
#
#   --root DIR        install into DIR instead of / (also DESTDIR=DIR); nothing is started
#   --project DIR     the terminal-agent source tree or wheel to install (default: this tree)
#   --wheelhouse DIR  install offline from wheels in DIR (pip --no-index --find-links DIR)
#   --python PY       the interpreter for the venv (default: python3, which must be 3.11+)
#   --no-enable       install files only; do not enable or start the units
#   --skip-pip        do not create a venv or install the package (files and units only)
#   --init            create the till's database (terminal-agent init) if there is none yet
#   --rollback        switch back to the version installed before this one; if that version
#                     cannot read the database (a migration ran), put back the backup taken
#                     before the migration (terminal-agent restore), then start again
#
# Each version lives in its own venv, /opt/terminal-agent/versions/NAME, installed from
# systemd/requirements.lock (every dependency pinned with its sha256, pip --require-hashes).
# /opt/terminal-agent/current points at the version in use and is switched atomically (rename)
# only after the new venv is complete and runs; a failed pip leaves the running version as it
# was. /opt/terminal-agent/previous points at the one before (what --rollback goes back to).
set -eu

NAME=terminal-agent
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${DESTDIR:-}
PROJECT=$(dirname "$here")
WHEELHOUSE=
PYTHON=python3
ENABLE=1
PIP=1
INIT=0
ROLLBACK=0

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
    case $1 in
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*) ROOT=${1#*=}; shift ;;
        --project) [ $# -ge 2 ] || die "--project needs a path"; PROJECT=$2; shift 2 ;;
        --wheelhouse) [ $# -ge 2 ] || die "--wheelhouse needs a directory"; WHEELHOUSE=$2; shift 2 ;;
        --python) [ $# -ge 2 ] || die "--python needs an interpreter"; PYTHON=$2; shift 2 ;;
        --no-enable) ENABLE=0; shift ;;
        --skip-pip) PIP=0; shift ;;
        --init) INIT=1; shift ;;
        --rollback) ROLLBACK=1; shift ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 ...)"
if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" = / ] && ROOT=
fi

OPT=$ROOT/opt/$NAME
ETC=$ROOT/etc/$NAME
STATE=$ROOT/var/lib/$NAME
UNITS=$ROOT/etc/systemd/system
SYSUSERS=$ROOT/etc/sysusers.d
CONFIG=$ETC/config.toml

# Point $OPT/$1 at versions/$2 atomically: a new link beside it, renamed over the old one.
switch_link() {
    ln -sfn "versions/$2" "$OPT/.$1.new"
    mv -Tf "$OPT/.$1.new" "$OPT/$1"
}

# Run the installed terminal-agent as the service account (root in a --root install).
agent() {
    if [ -z "$ROOT" ] && command -v runuser >/dev/null 2>&1; then
        runuser -u "$NAME" -- "$OPT/current/bin/terminal-agent" "$@"
    else
        "$OPT/current/bin/terminal-agent" "$@"
    fi
}

# --- rollback ----------------------------------------------------------------------------------
if [ "$ROLLBACK" = 1 ]; then
    [ -L "$OPT/previous" ] || die "no previous version to go back to ($OPT/previous is missing)"
    back=$(basename "$(readlink "$OPT/previous")")
    now=$(basename "$(readlink "$OPT/current")")
    [ -d "$OPT/versions/$back" ] || die "$OPT/versions/$back is gone"
    if [ -z "$ROOT" ]; then
        say "stopping the services"
        systemctl stop "$NAME-ui.service" "$NAME.service" || true
    fi
    say "switching back from $now to $back"
    switch_link current "$back"
    switch_link previous "$now"
    if ! agent status --config "$CONFIG" >/dev/null 2>"$OPT/.rollback.err"; then
        if grep -q "newer than this agent" "$OPT/.rollback.err"; then
            backup=$(ls -1 "$STATE"/backups/agent-*-pre-migration-v*.db 2>/dev/null | sort | tail -n 1)
            [ -n "$backup" ] || die "the database was migrated and no pre-migration backup is in $STATE/backups"
            say "the database was migrated by $now: restoring $backup"
            agent restore "$backup" --config "$CONFIG"
        else
            cat "$OPT/.rollback.err" >&2
        fi
    fi
    rm -f "$OPT/.rollback.err"
    if [ -z "$ROOT" ]; then
        say "starting the services"
        systemctl start "$NAME.service" "$NAME-ui.service"
    fi
    say "done: running $back; $now is kept in $OPT/versions (install.sh switches to a new one)"
    exit 0
fi

[ -e "$PROJECT" ] || die "project $PROJECT not found"
PROJECT=$(cd "$(dirname "$PROJECT")" && pwd)/$(basename "$PROJECT")
EXAMPLE=$PROJECT/config.example.toml
[ -f "$EXAMPLE" ] || EXAMPLE=$here/../config.example.toml
[ -f "$EXAMPLE" ] || die "config.example.toml not found in $PROJECT"
LOCK=$PROJECT/systemd/requirements.lock
[ -f "$LOCK" ] || LOCK=$here/requirements.lock

# 1. The system user and group (systemd-sysusers: idempotent, and works on a --root too).
say "system user and group '$NAME'"
install -d -m 0755 "$ROOT/etc" "$SYSUSERS"
install -m 0644 "$here/$NAME.sysusers.conf" "$SYSUSERS/$NAME.conf"
if [ -n "$ROOT" ]; then
    systemd-sysusers --root="$ROOT" "$SYSUSERS/$NAME.conf"
else
    systemd-sysusers "$SYSUSERS/$NAME.conf"
fi
uid=$(awk -F: -v n="$NAME" '$1 == n { print $3 }' "$ROOT/etc/passwd")
gid=$(awk -F: -v n="$NAME" '$1 == n { print $3 }' "$ROOT/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || die "user $NAME was not created"

# 2. The program: a new venv per version under /opt, owned by root (the service cannot change
#    its own code), from the lock file with hashes; switched to only once it is complete.
install -d -m 0755 "$OPT" "$OPT/versions"
if [ "$PIP" = 1 ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is older than Python 3.11"
    [ -f "$LOCK" ] || die "no lock file (systemd/requirements.lock) in $PROJECT"
    version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$PROJECT/pyproject.toml" 2>/dev/null | head -n 1)
    new=${version:-unknown}-$(date -u +%Y%m%dT%H%M%SZ)
    venv=$OPT/versions/$new
    [ ! -e "$venv" ] || die "$venv already exists; wait a second and run again"
    say "new version $new: venv $venv"
    "$PYTHON" -m venv "$venv"
    # Whatever fails from here leaves the running version untouched and this venv removed.
    trap 'rm -rf "$venv"; echo "install.sh: failed; the running version is unchanged" >&2' EXIT
    offline=
    [ -z "$WHEELHOUSE" ] || offline="--no-index --find-links $WHEELHOUSE"
    say "dependencies from $(basename "$LOCK") (hashes checked)"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
        --only-binary :all: $offline -r "$LOCK"
    say "installing $PROJECT"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation $offline "$PROJECT"
    "$venv/bin/terminal-agent" --help >/dev/null || die "the new version does not run"
    trap - EXIT
    old=
    [ -L "$OPT/current" ] && old=$(basename "$(readlink "$OPT/current")")
    [ -n "$old" ] && switch_link previous "$old"
    switch_link current "$new"
    say "now running $new${old:+ (previous: $old, kept for --rollback)}"
    # Keep the current, the previous and one more; older versions go.
    ls -1 "$OPT/versions" | sort | head -n -3 | while read -r gone; do
        case "$gone" in "$new"|"$old") ;; *) rm -rf "${OPT:?}/versions/$gone" ;; esac
    done
    # The layout before per-version venvs.
    [ ! -d "$OPT/venv" ] || rm -rf "$OPT/venv"
else
    say "skipping the venv and the package (--skip-pip)"
fi
install -m 0644 "$PROJECT/docs/DEPLOY.md" "$OPT/DEPLOY.md" 2>/dev/null \
    || install -m 0644 "$here/../docs/DEPLOY.md" "$OPT/DEPLOY.md"
install -m 0755 "$here/uninstall.sh" "$OPT/uninstall.sh"
install -m 0755 "$0" "$OPT/install.sh"

# 3. Configuration: the folder is root's, readable by the service group only. config.toml is
#    owner-only and never overwritten; the password file is root's alone (systemd reads it and
#    hands it to the service as a credential).
install -d -m 0750 -o 0 -g "$gid" "$ETC"
if [ ! -e "$CONFIG" ]; then
    say "config $CONFIG (from config.example.toml: edit it)"
    install -m 0600 -o "$uid" -g "$gid" "$EXAMPLE" "$CONFIG"
    # Under systemd the password arrives as the credential "switch-password".
    if grep -Eq '^[#[:space:]]*password_credential[[:space:]]*=' "$CONFIG"; then
        sed -i -E 's/^[#[:space:]]*password_credential[[:space:]]*=.*/password_credential = "switch-password"/' \
            "$CONFIG"
    else
        echo "install.sh: set password_credential = \"switch-password\" in [switch] of $CONFIG" >&2
    fi
    sed -i -E -e 's/^[#[:space:]]*key_credential[[:space:]]*=.*/key_credential = "till-key"/' \
        -e 's|^[#[:space:]]*key_file[[:space:]]*=.*|key_file = "/etc/terminal-agent/till-key"|' \
        "$ETC/config.toml"
else
    say "keeping existing $CONFIG"
fi
chown "$uid:$gid" "$CONFIG"
chmod 0600 "$CONFIG"
if [ ! -e "$ETC/switch-password" ]; then
    say "empty password file $ETC/switch-password (write the switch password into it)"
    install -m 0600 -o 0 -g 0 /dev/null "$ETC/switch-password"
fi
chown 0:0 "$ETC/switch-password"
chmod 0600 "$ETC/switch-password"
# The till key seals the voucher PINs and ID numbers the database keeps for a while
# (core/vault.py); root's alone, handed to the services as the credential "till-key". Made once
# and never replaced: a new key cannot open what the old one sealed.
if [ ! -e "$ETC/till-key" ]; then
    say "till key $ETC/till-key (32 random bytes)"
    (umask 077 && head -c 32 /dev/urandom | base64 > "$ETC/till-key")
fi
chown 0:0 "$ETC/till-key"
chmod 0600 "$ETC/till-key"

# 4. State: the database folder (systemd also creates it from StateDirectory=) and its backups.
install -d -m 0750 -o "$uid" -g "$gid" "$STATE"
install -d -m 0700 -o "$uid" -g "$gid" "$STATE/backups"
if [ "$INIT" = 1 ]; then
    if [ -e "$STATE/agent.db" ]; then
        say "keeping the existing database $STATE/agent.db"
    elif [ -x "$OPT/current/bin/terminal-agent" ]; then
        say "creating the database (terminal-agent init)"
        agent init --config "$CONFIG"
    else
        die "--init needs the program installed (not with --skip-pip)"
    fi
fi

# 5. Units.
say "units in $UNITS"
install -d -m 0755 "$UNITS"
for unit in "$NAME.service" "$NAME-ui.service" "$NAME-backup.service" "$NAME-backup.timer"; do
    install -m 0644 "$here/$unit" "$UNITS/$unit"
done

# 6. Enable: the forwarder from boot, the UI on tty1 in place of the login prompt, the backups.
if [ "$ENABLE" = 0 ]; then
    say "not enabling (--no-enable)"
elif [ -n "$ROOT" ]; then
    say "enabling in $ROOT (nothing is started)"
    systemctl --root="$ROOT" mask getty@tty1.service autovt@tty1.service
    systemctl --root="$ROOT" enable "$NAME.service" "$NAME-ui.service" "$NAME-backup.timer"
else
    say "enabling $NAME.service, $NAME-ui.service (tty1) and $NAME-backup.timer"
    systemctl daemon-reload
    systemctl mask getty@tty1.service autovt@tty1.service
    systemctl enable "$NAME.service" "$NAME-ui.service" "$NAME-backup.timer"
    systemctl start "$NAME-backup.timer" || true
    # An upgrade: the forwarder restarts at once (it migrates after a backup; safe at any
    # instant); the UI is asked to restart itself once no sale is open (reload = SIGUSR1).
    systemctl try-restart "$NAME.service"
    if systemctl is-active --quiet "$NAME-ui.service"; then
        systemctl reload "$NAME-ui.service" || true
    fi
fi
say "done. Next (first install): edit $CONFIG, write the switch password into"
say "$ETC/switch-password, create the database: $0 --init (or terminal-agent init), then:"
say "systemctl start $NAME.service $NAME-ui.service (or reboot); journalctl -u $NAME -f"
