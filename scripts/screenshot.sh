#!/usr/bin/env bash
# shellcheck disable=SC2016 # waitfor evaluates its condition: the single quotes are meant
# Signs in to the real desktop client as the demo applicant on a display of
# its own and saves what the window shows to artifacts/screenshot.png.
#
# Nothing is faked: a throwaway sync server with demo data on a free loopback
# port, Xvfb on a free display, the real bin/expertiza with a throwaway
# HOME (no saved session or preference from this machine is reused), and
# xdotool typing the login and password into its window. The run fails
# unless the server's database records a successful sign-in of that
# applicant, the client logs it, the server counts the client's event stream
# (the main screen runs), and the picture is not a uniform image.
#
# Needs: xvfb, xdotool, x11-apps (xwd), imagemagick, postgresql (server and
# psql) — `make deps` installs them. Environment:
#   SCREENSHOT_OUT   where to write the PNG (default artifacts/screenshot.png)
#   SCREENSHOT_KEEP  set to 1 to keep the work folder with every log
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$repo/bin}
out=${SCREENSHOT_OUT:-$repo/artifacts/screenshot.png}
width=1280
height=800

say() { printf 'screenshot: %s\n' "$*" >&2; }

for tool in Xvfb xdotool xwd convert identify compare psql curl; do
	if ! command -v "$tool" >/dev/null; then
		say "$tool is missing: run 'make deps' (as root) to install the system packages"
		exit 1
	fi
done
if [ ! -x "$bin/expertiza" ] || [ ! -x "$bin/expertiza-server" ]; then
	say "building the binaries"
	make -C "$repo" build >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/expertiza-screenshot.XXXXXX")
server_pid='' xvfb_pid='' client_pid='' window=''
# A picture left by an earlier run must not pass for this one's.
rm -f "$out"
ok=0

# stop ends one process we started: TERM, then KILL after a grace period.
stop() {
	local pid=$1 grace=$2
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 $((grace * 10))); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	stop "$client_pid" 5
	stop "$xvfb_pid" 5
	# The server stops its embedded PostgreSQL on TERM; give it time to.
	stop "$server_pid" 30
	local pm=$work/data/postgres/pgdata/postmaster.pid
	if [ -f "$pm" ]; then
		# The server was killed before it could stop the cluster: stop the
		# postmaster it started (first line of postmaster.pid).
		kill "$(head -n1 "$pm")" 2>/dev/null || true
		sleep 2
	fi
	if [ "$ok" = 1 ] && [ "${SCREENSHOT_KEEP:-}" != 1 ]; then
		rm -rf "$work"
	else
		say "logs kept in $work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail prints why, the tail of each log, and exits non-zero.
fail() {
	say "FAILED: $*"
	if [ -n "$window" ] && xwd -id "$window" -silent 2>/dev/null | convert xwd:- "$work/failed.png" 2>/dev/null; then
		say "what the window showed: $work/failed.png"
	fi
	for f in server.log client.log xvfb.log; do
		[ -s "$work/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 20 "$work/$f" >&2; }
	done
	exit 1
}

# waitfor polls a shell condition every 0.2 s for up to $2 seconds.
waitfor() {
	local cond=$1 secs=$2
	for _ in $(seq 1 $((secs * 5))); do
		eval "$cond" && return 0
		sleep 0.2
	done
	return 1
}

# 1. A throwaway server with demo data on a port the kernel picks.
say "seeding demo data in $work/data"
"$bin/expertiza-server" seed-demo --data "$work/data" >"$work/seed.log" 2>&1 || { cat "$work/seed.log" >&2; fail "seed-demo"; }
read -r login password < <(awk '$1 == "applicant" && $3 == "password:" { print $2, $4; exit }' "$work/data/demo-credentials.txt") || true
if [ -z "${login:-}" ] || [ -z "${password:-}" ]; then
	fail "no applicant in $work/data/demo-credentials.txt"
fi

"$bin/expertiza-server" serve --data "$work/data" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
server_url() { sed -n 's/.*msg="sync server listening" addr=\([^ ]*\).*/\1/p' "$work/server.log" | head -n1; }
waitfor '[ -n "$(server_url)" ] || ! kill -0 $server_pid 2>/dev/null' 60 || true
url=$(server_url)
[ -n "$url" ] || fail "the server did not start listening"
waitfor 'curl -sf "$url/readyz" >/dev/null 2>&1' 30 || fail "the server at $url is not ready"
sock=$(sed -n 's/.*msg="PostgreSQL cluster ready".* socket_dir=\([^ ]*\).*/\1/p' "$work/server.log" | head -n1)
[ -n "$sock" ] || fail "the server did not say where its PostgreSQL socket is"
say "server $url, applicant $login"

# sql asks the server's own database (Unix socket, superuser password file).
sql() {
	psql -XAtq "host=$sock port=5432 dbname=expertiza user=expertiza passfile=$work/data/postgres/pgpass" -c "$1"
}
logins_ok() {
	sql "SELECT count(*) FROM login_history h JOIN users u ON u.id = h.user_id
	     WHERE u.login = '$login' AND h.success"
}
# shellcheck disable=SC2034 # read by a waitfor condition below
before=$(logins_ok) || fail "cannot query the server's database"

# 2. Xvfb on a display it picks itself (-displayfd: no race for a number).
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 "${width}x${height}x24" -nolisten tcp -noreset >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 3>&-
waitfor '[ -s "$work/display" ]' 15 || fail "Xvfb did not start"
DISPLAY=:$(head -n1 "$work/display")
export DISPLAY

# 3. The real client with a throwaway home: no saved session, no keyring
# daemon (its token goes to the encrypted file under the throwaway home),
# Russian interface as an applicant would have it.
mkdir -p "$work/home" "$work/run"
chmod 700 "$work/run"
env -i PATH="$PATH" HOME="$work/home" DISPLAY="$DISPLAY" \
	XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
	XDG_CACHE_HOME="$work/home/.cache" XDG_RUNTIME_DIR="$work/run" \
	DBUS_SESSION_BUS_ADDRESS="unix:path=$work/run/no-bus" \
	LANG=ru_RU.UTF-8 EXPERTIZA_SERVER="$url" \
	"$bin/expertiza" >"$work/client.log" 2>&1 &
client_pid=$!

find_window() { window=$(xdotool search --onlyvisible --pid "$client_pid" 2>/dev/null | head -n1); [ -n "$window" ]; }
waitfor 'find_window || ! kill -0 $client_pid 2>/dev/null' 30 || true
[ -n "$window" ] || fail "the client window did not appear"

capture() { xwd -id "$window" -silent | convert xwd:- "$1"; }
# uniform: true when the image has almost one colour (nothing drawn yet, or
# a blank capture).
uniform() {
	local colours
	colours=$(convert "$1" -format '%k' info:)
	[ "$colours" -lt 16 ]
}
# Fyne maps the window before it has drawn and takes keys only a moment
# after it has: wait for a drawn login screen, then a little more.
waitfor 'capture "$work/login.png" && ! uniform "$work/login.png"' 30 || fail "the login screen was not drawn"
sleep 2

# 4. Sign in the way a person does: the login field has the focus (no
# login was saved), Tab moves to the password, Enter submits.
say "signing in on display $DISPLAY, window $window"
# Real key events (XTEST) go to the focused window; GLFW ignores the
# synthetic ones `--window` would send.
xdotool mousemove --window "$window" 10 10
xdotool windowfocus --sync "$window"
xdotool type --delay 40 "$login"
xdotool key Tab
xdotool type --delay 40 "$password"
xdotool key Return

waitfor '[ "$(logins_ok)" -gt "$before" ]' 30 ||
	fail "the server recorded no successful sign-in of $login (the keys may not have reached the window)"
waitfor 'grep -q "msg=\"signed in\"" "$work/client.log"' 15 || fail "the client did not log its sign-in"
kill -0 "$client_pid" 2>/dev/null || fail "the client exited"
# The main screen opens the event stream: the server counts it.
ws_open() { curl -sf "$url/metrics" | awk '$1 == "expertiza_ws_connections" && $2 >= 1 { found = 1 } END { exit !found }'; }
waitfor ws_open 15 || fail "the client did not open its event stream (the main screen did not start)"

# 5. The main screen: give it the size a person would (without a window
# manager the window keeps its minimum size), wait until the picture stops
# changing (the list has arrived and is drawn), and save it.
xdotool windowsize "$window" "$width" "$height"
prev=$work/prev.png cur=$work/cur.png
sleep 1
capture "$prev" || fail "cannot capture the window"
stable=0
for _ in $(seq 1 20); do
	sleep 0.5
	capture "$cur" || fail "cannot capture the window"
	# Pixels that differ between two captures; a blinking cursor is a few dozen.
	diff=$(compare -metric AE "$prev" "$cur" null: 2>&1 || true)
	if [ "${diff%% *}" -lt 100 ] 2>/dev/null && ! uniform "$cur"; then
		stable=1
		break
	fi
	mv "$cur" "$prev"
done
[ -f "$cur" ] || cur=$prev
[ "$stable" = 1 ] || say "the window kept changing for 10 s; saving the last picture"
uniform "$cur" && fail "the picture of the main screen is a uniform image"
sd=$(convert "$cur" -format '%[fx:standard_deviation]' info:)
awk -v sd="$sd" 'BEGIN { exit !(sd > 0.02) }' || fail "the picture has almost no contrast (standard deviation $sd)"

mkdir -p "$(dirname "$out")"
cp "$cur" "$out"
ok=1
say "saved $out ($(identify -format '%wx%h, %k colours' "$out"), sign-ins of $login recorded by the server: $(logins_ok))"
