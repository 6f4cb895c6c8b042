#!/usr/bin/env bash
# h2load_run.sh NAME REPEATS SERVER_CMD...
# Starts SERVER_CMD pinned to CPU ${SERVER_CPU:-0}, reads its {"port":N} ready
# line, checks one call answers grpc-status 0 (h2load never looks at it),
# runs h2load REPEATS times pinned to CPU ${CLIENT_CPU:-1} against
# SignJsapiConfig and prints each run's req/s and server CPU per request, and
# their medians; fails if any request failed. The server is stopped with
# SIGTERM afterwards. Environment (GOMAXPROCS, ...) passes
# through to the server. Tunables: N (200000), C (4), M (50), APP (cs),
# URL (https://cs.example.com/x).
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 NAME REPEATS SERVER_CMD..." >&2; exit 2; }
name="$1" repeats="$2"
shift 2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 "$here/grpc_body.py" "$work/body.bin" "${APP:-cs}" "${URL:-https://cs.example.com/x}"
# Each of the server and h2load in its own session: with autogroup scheduling
# (Debian's default) a session's CPU weight is split across the CPUs its tasks
# run on, so a server sharing a session with a busy h2load is given less of
# CPU 0 when other sessions compete for it.
setsid taskset -c "${SERVER_CPU:-0}" "$@" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
port=
for _ in $(seq 100); do
  # {"port":N} on stdout (the baselines), or wxgate's "listening on HOST:PORT" log line.
  port="$({ grep -o '"port": *[0-9]*' "$work/stdout"; grep -ho 'listening on [^ ;]*:[0-9]*' "$work/stdout" "$work/stderr"; } 2>/dev/null |
    grep -o '[0-9]*$' | head -1 || true)"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; echo "$name: server exited" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "$name: no ready line" >&2; exit 1; }

path=/wxgate.v1.SignatureService/SignJsapiConfig
headers=(-H 'content-type: application/grpc' -H 'te: trailers')
check="$(nghttp -v -d "$work/body.bin" "${headers[@]}" "http://127.0.0.1:$port$path" 2>&1 | grep -a -o 'grpc-status: [0-9]*' || true)"
[[ "$check" == "grpc-status: 0" ]] || { echo "$name: sanity call answered '${check:-no grpc-status}'" >&2; exit 1; }

# The server's CPU time (all threads, clock ticks) and the wall clock, to
# report CPU per request: on a shared machine req/s also measures how much of
# CPU 0 the server was given, CPU per request much less so.
hz="$(getconf CLK_TCK)"
server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
now_ns() { date +%s%N; }

rates=() cpus=()
for i in $(seq "$repeats"); do
  ticks0="$(server_ticks)" wall0="$(now_ns)"
  out="$(setsid -w taskset -c "${CLIENT_CPU:-1}" h2load -n "${N:-200000}" -c "${C:-4}" -m "${M:-50}" -t 1 \
    -d "$work/body.bin" "${headers[@]}" "http://127.0.0.1:$port$path")"
  rate="$(grep -o 'finished in [^,]*, [0-9.]* req/s' <<<"$out" | grep -o '[0-9.]* req/s' | cut -d' ' -f1)"
  status="$(grep -o 'requests: .*' <<<"$out" | head -1)"
  codes="$(grep -o 'status codes: .*' <<<"$out")"
  ticks1="$(server_ticks)" wall1="$(now_ns)"
  cpu="$(awk -v t="$((ticks1 - ticks0))" -v hz="$hz" -v w="$((wall1 - wall0))" -v n="${N:-200000}" \
    'BEGIN {printf "server CPU %.1f us/req, %.0f%% of one CPU", t / hz * 1e6 / n, t / hz * 1e11 / w}')"
  cpus+=("$(awk -v t="$((ticks1 - ticks0))" -v hz="$hz" -v n="${N:-200000}" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')")
  echo "$name run $i: $rate req/s, $cpu ($status; $codes)"
  grep -q "^requests: ${N:-200000} total, ${N:-200000} started, ${N:-200000} done, ${N:-200000} succeeded" <<<"$out" ||
    { echo "$name: h2load saw failed requests" >&2; exit 1; }
  rates+=("$rate")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo "$name median: $(median "${rates[@]}") req/s, server CPU $(median "${cpus[@]}") us/req"
