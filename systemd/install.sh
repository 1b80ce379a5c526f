#!/bin/sh
# Install terminal-agent on a till (Debian 12): the system user, a venv under /opt, the config,
# the password file, the systemd units; then enable them. Safe to run again (upgrades the
# package, never overwrites config.toml or the password file). See docs/DEPLOY.md.
#
#   sudo systemd/install.sh [--root DIR] [--project DIR] [--wheelhouse DIR] [--python PY]
#                           [--no-enable] [--skip-pip]
#
#   --root DIR        install into DIR instead of / (also DESTDIR=DIR); nothing is started
#   --project DIR     the terminal-agent source tree or wheel to install (default: this tree)
#   --wheelhouse DIR  install offline from wheels in DIR (pip --no-index --find-links DIR)
#   --python PY       the interpreter for the venv (default: python3, which must be 3.11+)
#   --no-enable       install files only; do not enable or start the units
#   --skip-pip        do not create the venv or install the package (files and units only)
set -eu

NAME=terminal-agent
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${DESTDIR:-}
PROJECT=$(dirname "$here")
WHEELHOUSE=
PYTHON=python3
ENABLE=1
PIP=1

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
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 ...)"
if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" = / ] && ROOT=
fi
[ -e "$PROJECT" ] || die "project $PROJECT not found"
PROJECT=$(cd "$(dirname "$PROJECT")" && pwd)/$(basename "$PROJECT")
EXAMPLE=$PROJECT/config.example.toml
[ -f "$EXAMPLE" ] || EXAMPLE=$here/../config.example.toml
[ -f "$EXAMPLE" ] || die "config.example.toml not found in $PROJECT"

OPT=$ROOT/opt/$NAME
ETC=$ROOT/etc/$NAME
STATE=$ROOT/var/lib/$NAME
UNITS=$ROOT/etc/systemd/system
SYSUSERS=$ROOT/etc/sysusers.d

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

# 2. The program: a venv under /opt, owned by root (the service cannot change its own code).
install -d -m 0755 "$OPT"
if [ "$PIP" = 1 ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is older than Python 3.11"
    if [ ! -x "$OPT/venv/bin/python" ]; then
        say "venv $OPT/venv"
        "$PYTHON" -m venv "$OPT/venv"
    fi
    say "installing $PROJECT into the venv"
    if [ -n "$WHEELHOUSE" ]; then
        "$OPT/venv/bin/pip" install --quiet --no-index --find-links "$WHEELHOUSE" --upgrade "$PROJECT"
    else
        "$OPT/venv/bin/pip" install --quiet --upgrade "$PROJECT"
    fi
else
    say "skipping the venv and the package (--skip-pip)"
fi
install -m 0644 "$PROJECT/docs/DEPLOY.md" "$OPT/DEPLOY.md" 2>/dev/null \
    || install -m 0644 "$here/../docs/DEPLOY.md" "$OPT/DEPLOY.md"
install -m 0755 "$here/uninstall.sh" "$OPT/uninstall.sh"

# 3. Configuration: the folder is root's, readable by the service group only. config.toml is
#    owner-only and never overwritten; the password file is root's alone (systemd reads it and
#    hands it to the service as a credential).
install -d -m 0750 -o 0 -g "$gid" "$ETC"
if [ ! -e "$ETC/config.toml" ]; then
    say "config $ETC/config.toml (from config.example.toml: edit it)"
    install -m 0600 -o "$uid" -g "$gid" "$EXAMPLE" "$ETC/config.toml"
    # Under systemd the password arrives as the credential "switch-password".
    if grep -Eq '^[#[:space:]]*password_credential[[:space:]]*=' "$ETC/config.toml"; then
        sed -i -E 's/^[#[:space:]]*password_credential[[:space:]]*=.*/password_credential = "switch-password"/' \
            "$ETC/config.toml"
    else
        echo "install.sh: set password_credential = \"switch-password\" in [switch] of $ETC/config.toml" >&2
    fi
else
    say "keeping existing $ETC/config.toml"
fi
chown "$uid:$gid" "$ETC/config.toml"
chmod 0600 "$ETC/config.toml"
if [ ! -e "$ETC/switch-password" ]; then
    say "empty password file $ETC/switch-password (write the switch password into it)"
    install -m 0600 -o 0 -g 0 /dev/null "$ETC/switch-password"
fi
chown 0:0 "$ETC/switch-password"
chmod 0600 "$ETC/switch-password"

# 4. State: the database folder (systemd also creates it from StateDirectory=).
install -d -m 0750 -o "$uid" -g "$gid" "$STATE"

# 5. Units.
say "units in $UNITS"
install -d -m 0755 "$UNITS"
install -m 0644 "$here/$NAME.service" "$UNITS/$NAME.service"
install -m 0644 "$here/$NAME-ui.service" "$UNITS/$NAME-ui.service"

# 6. Enable: the forwarder from boot, the UI on tty1 in place of the login prompt.
if [ "$ENABLE" = 0 ]; then
    say "not enabling (--no-enable)"
elif [ -n "$ROOT" ]; then
    say "enabling in $ROOT (nothing is started)"
    systemctl --root="$ROOT" mask getty@tty1.service autovt@tty1.service
    systemctl --root="$ROOT" enable "$NAME.service" "$NAME-ui.service"
else
    say "enabling $NAME.service and $NAME-ui.service (tty1)"
    systemctl daemon-reload
    systemctl mask getty@tty1.service autovt@tty1.service
    systemctl enable "$NAME.service" "$NAME-ui.service"
    # An upgrade: restart what runs so the new code is used; a first install waits for the config.
    systemctl try-restart "$NAME.service" "$NAME-ui.service"
fi
say "done. Next: edit $ETC/config.toml and write the switch password into $ETC/switch-password,"
say "then: systemctl start $NAME.service $NAME-ui.service (or reboot); journalctl -u $NAME -f"
