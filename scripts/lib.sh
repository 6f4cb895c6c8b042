# Shared by scripts/demo, scripts/test and scripts/bench: Debian packages,
# the build. Sourced, not run.

WXGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Every Debian 12 package the build and the demo need.
WXGATE_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libssl-dev libcurl4-openssl-dev libsimdjson-dev libhiredis-dev redis-server
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev libgoogle-perftools-dev
  python3 python3-grpcio python3-grpc-tools
)

# What the suite adds (scripts/test and scripts/lint install both lists).
WXGATE_TEST_PACKAGES=(
  python3-prometheus-client
  # ss, for the HTTP/JSON listener's backlog.
  iproute2
  # The deploy/ checks: systemd-analyze, the unit's /bin/kill, promtool, YAML.
  systemd procps prometheus python3-yaml
  # The gRPC proxies the proxy tests put in front of wxgate.
  nginx haproxy
  # The clients of client/node and client/go (tests/polyglot).
  nodejs golang-go protoc-gen-go protoc-gen-go-grpc golang-google-grpc-dev golang-google-genproto-dev
  golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
  # client/java, built by javac (client/java/build.sh --packages lists the same).
  default-jdk-headless libgrpc-java protobuf-compiler-grpc-java-plugin libprotobuf-java
  libguava-java liberror-prone-java libgoogle-gson-java libperfmark-java libnetty-java
  libgoogle-common-protos-java libgeronimo-annotation-1.3-spec-java
  # client/php, over HTTP/JSON (Debian has no gRPC for PHP).
  php-cli php-curl
)
# npm for the Node client and the reflection client test: Debian's nodejs
# comes without it; NodeSource's bundles it and conflicts with Debian's.
command -v npm >/dev/null || WXGATE_TEST_PACKAGES+=(npm)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whichever of the given packages are missing (apt-get, as root or
# through sudo). Quiet and quick when nothing is missing.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    die "apt-get update failed"
  # The suite runs its own nginx, haproxy and redis-server on free ports: a
  # policy-rc.d answering 101 keeps the packages from starting theirs on the
  # default ports (:80 for nginx) while they install. One already there is
  # the machine's own and is left alone.
  local guard=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$guard" >/dev/null
    "${sudo[@]}" chmod 755 "$guard"
  fi
  local installed=0
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || installed=$?
  [[ -n "$guard" ]] && "${sudo[@]}" rm -f "$guard"
  [[ $installed -eq 0 ]] || die "apt-get install ${missing[*]} failed"
}

# build_tree DIR [cmake args...] [-- targets...]: configures once, then
# builds incrementally: the named targets only, or everything.
build_tree() {
  local dir="$1"
  shift
  local configure=() targets=()
  while [[ $# -gt 0 ]]; do
    if [[ "$1" == "--" ]]; then
      shift
      targets=("$@")
      break
    fi
    configure+=("$1")
    shift
  done
  if [[ ! -f "$dir/build.ninja" ]]; then
    log "configuring $dir"
    cmake -S "$WXGATE_ROOT" -B "$dir" -G Ninja "${configure[@]}" >/dev/null || die "cmake configure failed"
  fi
  if [[ ${#targets[@]} -gt 0 ]]; then
    log "building ${targets[*]} in $dir"
    cmake --build "$dir" --target "${targets[@]}" -- -k 0 || die "build failed"
  else
    log "building $dir"
    cmake --build "$dir" -- -k 0 || die "build failed"
  fi
}
