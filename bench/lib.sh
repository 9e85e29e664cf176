# shellcheck shell=bash
# Helpers shared by the benchmarks (sourced, not run). Set BENCH_NAME first: it prefixes messages.
#   say / die MESSAGE          message on stderr ("NAME: ..."); die exits 1
#   install_missing PKG...     apt-get install of the packages given (none given: nothing)
#   children_of PID            pids whose parent is PID (from /proc, no procps needed)
#   cpu_seconds PID            utime + stime of PID in seconds (2 decimals)
#   cpu_ticks PID              utime + stime of PID in clock ticks (getconf CLK_TCK per second)
#   ctx_switches PID           "voluntary involuntary" context switches of PID, summed over the
#                              threads alive now (/proc/PID/task/*/status; a thread that exited
#                              takes its count with it)
#   free_port                  a loopback port nobody listens on, below the ephemeral range
#   start_nginx DIR            a private nginx on 127.0.0.1:$PORT with prefix, config, pid file,
#                              logs and temp paths in DIR (the system nginx is not touched):
#                              GET /health answers 200 "ok", anything else 404. Sets PORT,
#                              NGINX (the binary), NGINX_PID (master), NGINX_WORKER (its worker).
#   stop_nginx                 graceful stop (QUIT), then KILL after 5 s; clears NGINX_PID
# Loopback only: nothing here talks to any other address.

say() { echo "${BENCH_NAME:-bench}: $*" >&2; }
die() { echo "${BENCH_NAME:-bench}: $*" >&2; exit 1; }

install_missing() {  # install_missing PACKAGE... (only those whose command is missing were passed)
  (($#)) || return 0
  say "installing $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

children_of() {  # children_of PID: the pids whose parent is PID (from /proc, no procps needed)
  awk -v p="$1" '{ f = FILENAME; sub(/^.*\) /, ""); if ($2 == p) { sub(/^\/proc\//, "", f); sub(/\/stat$/, "", f); print f } }' \
    /proc/[0-9]*/stat 2>/dev/null || true
}
cpu_seconds() {  # cpu_seconds PID: utime + stime of PID in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}
cpu_ticks() {  # cpu_ticks PID: utime + stime of PID in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
ctx_switches() {  # ctx_switches PID: "voluntary involuntary", summed over /proc/PID/task/*/status
  { cat /proc/"$1"/task/*/status 2>/dev/null || true; } |   # a thread may exit in between: skipped
    awk '$1 == "voluntary_ctxt_switches:" { v += $2 } $1 == "nonvoluntary_ctxt_switches:" { n += $2 }
         END { printf "%d %d\n", v, n }'
}
free_port() {  # a loopback port nobody listens on, below the ephemeral range (sonde's sockets use that)
  local low p
  low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
  ((low > 12000)) || low=32768
  for _ in $(seq 100); do
    p=$((10000 + RANDOM % (low - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free loopback port found"
}

# nginx: own prefix, config, pid file and logs in DIR; the temp paths too, so nothing of the
# system's nginx (config, /run/nginx.pid, /var/log/nginx) is used.
start_nginx() {  # start_nginx DIR
  local dir=$1 attempt reply
  NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
  mkdir -p "$dir/tmp"
  for attempt in 1 2 3 4 5; do
    PORT=$(free_port)
    cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location = /health { return 200 "ok"; }
    location / { return 404; }
  }
}
EOF
    if "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >>"$dir/start.log" 2>&1; then
      for _ in $(seq 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
      NGINX_PID=$(cat "$dir/nginx.pid" 2>/dev/null || true)
      [ -n "$NGINX_PID" ] && break
    fi
    say "nginx did not start on port $PORT (attempt $attempt)"
    ((attempt < 5)) || { cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null || true; die "nginx did not start"; }
  done
  reply=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET /health HTTP/1.0\r\n\r\n' >&3; cat <&3" || true)
  [[ $reply == "HTTP/1.1 200"*ok ]] || die "nginx on port $PORT does not answer /health: $reply"
  NGINX_WORKER=$(children_of "$NGINX_PID" | head -1)
}
stop_nginx() {
  if [ -n "${NGINX_PID:-}" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true   # graceful stop of master and worker
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  NGINX_PID=""
}
