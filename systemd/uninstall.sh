#!/bin/sh
# Remove terminal-agent from a till: stop and disable the units, give tty1 back to the login
# prompt, remove the units and the program. Keeps the configuration, the database and the user
# unless --purge is given. See docs/DEPLOY.md.
#
#   sudo systemd/uninstall.sh [--root DIR] [--purge [--force]]
#
#   --root DIR   uninstall from DIR instead of / (also DESTDIR=DIR)
#   --purge      also delete /etc/terminal-agent, /var/lib/terminal-agent (the database and its
#                backups) and the terminal-agent user and group; refused while the database
#                holds anything still owed (advices pending or parked, open decisions, refunds
#                due), saying what would be lost
#   --force      purge even then (what is owed is lost: settle it with the switch by hand)
set -eu

NAME=terminal-agent
ROOT=${DESTDIR:-}
PURGE=0
FORCE=0

die() { echo "uninstall.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
    case $1 in
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*) ROOT=${1#*=}; shift ;;
        --purge) PURGE=1; shift ;;
        --force) FORCE=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 ...)"
if [ -n "$ROOT" ]; then
    [ -d "$ROOT" ] || die "$ROOT is not a directory"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" = / ] && ROOT=
fi
UNITS=$ROOT/etc/systemd/system
OPT=$ROOT/opt/$NAME
CONFIG=$ROOT/etc/$NAME/config.toml

# Before anything is removed: would --purge lose something the switch or a customer is owed?
if [ "$PURGE" = 1 ] && [ -e "$CONFIG" ]; then
    cli=
    for candidate in "$OPT/current/bin/$NAME" "$OPT/venv/bin/$NAME"; do
        if [ -x "$candidate" ]; then cli=$candidate; break; fi
    done
    verdict=0
    if [ -z "$cli" ]; then
        if [ -s "$ROOT/var/lib/$NAME/agent.db" ]; then
            owed="cannot tell what $ROOT/var/lib/$NAME/agent.db holds: the program is not in $OPT"
            verdict=2
        fi
    else
        owed=$("$cli" status --owed --config "$CONFIG" 2>&1) || verdict=$?
        if [ "$verdict" = 2 ] && echo "$owed" | grep -q "there is no database here"; then
            verdict=0
        fi
    fi
    if [ "$verdict" != 0 ]; then
        echo "uninstall.sh: --purge would lose:" >&2
        echo "$owed" | sed 's/^/    /' >&2
        if [ "$FORCE" = 1 ]; then
            echo "uninstall.sh: --force given: purging anyway" >&2
        else
            die "nothing was removed. Let the forwarder deliver (terminal-agent status), settle the rest, or add --force to lose it"
        fi
    fi
fi

say "disabling the units"
if [ -n "$ROOT" ]; then
    systemctl --root="$ROOT" disable "$NAME-ui.service" "$NAME.service" "$NAME-backup.timer" 2>/dev/null || true
    systemctl --root="$ROOT" unmask getty@tty1.service autovt@tty1.service 2>/dev/null || true
else
    systemctl disable --now "$NAME-ui.service" "$NAME.service" "$NAME-backup.timer" 2>/dev/null || true
    systemctl unmask getty@tty1.service autovt@tty1.service || true
fi
rm -f "$UNITS/$NAME.service" "$UNITS/$NAME-ui.service" "$UNITS/$NAME-backup.service" \
    "$UNITS/$NAME-backup.timer" "$ROOT/etc/sysusers.d/$NAME.conf"
if [ -z "$ROOT" ]; then
    systemctl daemon-reload
    systemctl start getty@tty1.service 2>/dev/null || true
fi

say "removing /opt/$NAME"
rm -rf "$OPT"

if [ "$PURGE" = 1 ]; then
    say "purging configuration, database and the $NAME user"
    rm -rf "$ROOT/etc/$NAME" "$ROOT/var/lib/$NAME" "$ROOT/var/lib/private/$NAME"
    if [ -n "$ROOT" ]; then
        for f in passwd group shadow gshadow; do
            [ -f "$ROOT/etc/$f" ] && sed -i "/^$NAME:/d" "$ROOT/etc/$f"
        done
    else
        userdel "$NAME" 2>/dev/null || true
        groupdel "$NAME" 2>/dev/null || true
    fi
else
    say "kept /etc/$NAME, /var/lib/$NAME (the database) and the $NAME user; --purge removes them"
fi
say "done"
