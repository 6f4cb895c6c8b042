#!/bin/bash
# Builds the Java client from Debian 12's packages alone (no Maven, no Gradle):
# generates the wxgate.v1 stubs with the system protoc and Debian's grpc-java
# plugin, compiles them and src/ with javac against the jars in /usr/share/java,
# and writes the run-time class path to OUT/classpath.
#
#   client/java/build.sh OUT        # then:
#   java -cp "$(cat OUT/classpath)" dev.wxgate.example.StoriesMain < inputs.json
#   client/java/build.sh --packages  # the Debian packages it needs
#   client/java/build.sh --check     # are they installed?
#
# Reruns only what changed: the stubs when a .proto did, the client when src/ did.
# Exit status 3: a package is missing (the message names it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
jars=/usr/share/java

# Jar (in /usr/share/java) -> the Debian package that ships it.
declare -A package_of=(
  [grpc-api]=libgrpc-java [grpc-stub]=libgrpc-java [grpc-protobuf]=libgrpc-java
  [grpc-protobuf-lite]=libgrpc-java [grpc-core]=libgrpc-java [grpc-context]=libgrpc-java
  [grpc-netty]=libgrpc-java
  [protobuf]=libprotobuf-java [protobuf-util]=libprotobuf-java
  [proto-google-common-protos]=libgoogle-common-protos-java
  [guava]=libguava-java [error_prone_annotations]=liberror-prone-java [gson]=libgoogle-gson-java
  [geronimo-annotation-1.3-spec]=libgeronimo-annotation-1.3-spec-java
  [perfmark-api]=libperfmark-java
  [netty-buffer]=libnetty-java [netty-codec]=libnetty-java [netty-codec-http]=libnetty-java
  [netty-codec-http2]=libnetty-java [netty-common]=libnetty-java
  [netty-handler]=libnetty-java [netty-resolver]=libnetty-java [netty-transport]=libnetty-java
  [netty-handler-proxy]=libnetty-java [netty-codec-socks]=libnetty-java
)
declare -A package_of_tool=(
  [protoc]=protobuf-compiler [grpc_java_plugin]=protobuf-compiler-grpc-java-plugin
  [javac]=default-jdk-headless [java]=default-jdk-headless
)
# javac's class path: what the stubs and src/ name, the annotations the jars
# use, and javax.annotation.Generated (on the generated services; source
# retention, so not needed at run time).
compile_jars=(grpc-api grpc-stub grpc-protobuf protobuf protobuf-util
  proto-google-common-protos guava error_prone_annotations gson geronimo-annotation-1.3-spec)
# java's: also grpc-core and the Netty transport it finds by ServiceLoader.
run_jars=(grpc-api grpc-context grpc-core grpc-stub grpc-protobuf grpc-protobuf-lite grpc-netty
  protobuf protobuf-util proto-google-common-protos guava gson perfmark-api
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-common netty-handler
  netty-resolver netty-transport
  netty-handler-proxy netty-codec-socks) # only when a proxy is configured (HTTP CONNECT)

# Status 3 and what is missing on stderr, unless every jar and tool is there.
check_packages() {
  local missing=() jar tool
  for jar in "${!package_of[@]}"; do
    [[ -f "$jars/$jar.jar" ]] || missing+=("${package_of[$jar]} ($jar.jar)")
  done
  for tool in "${!package_of_tool[@]}"; do
    command -v "$tool" >/dev/null || missing+=("${package_of_tool[$tool]} ($tool)")
  done
  ((${#missing[@]} == 0)) && return 0
  printf 'build.sh: missing, apt-get install the packages:\n' >&2
  printf '  %s\n' "${missing[@]}" | sort >&2
  exit 3
}

case "${1:?usage: build.sh OUT | --packages | --check}" in
  --packages)
    printf '%s\n' "${package_of[@]}" "${package_of_tool[@]}" | sort -u | tr '\n' ' '
    echo
    exit 0
    ;;
  --check) check_packages; exit 0 ;;
esac
check_packages
out="$(mkdir -p "$1" && cd "$1" && pwd)"

# javac runs briefly: the C1 compiler alone and the serial collector make it
# two to three times faster on a small, busy machine (CI has two cores).
javac=(javac -J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC)

path_of() { local IFS=:; local -a p=("${@/#/$jars/}"); echo "${p[*]/%/.jar}"; }
compile_cp="$(path_of "${compile_jars[@]}")"

# newer_than STAMP FILE...: true if STAMP is missing or any FILE is newer.
newer_than() {
  local stamp="$1" f
  shift
  [[ -f "$stamp" ]] || return 0
  for f in "$@"; do [[ "$f" -nt "$stamp" ]] && return 0; done
  return 1
}

# The stubs: wxgate.v1 messages and services (package dev.wxgate.v1), and
# google.rpc.ErrorInfo from wxgate's error_details.proto (no java_* options,
# so the class is google.rpc.ErrorDetails.ErrorInfo): Debian's proto-google-common-protos
# (1.16) predates ErrorInfo. Status is not generated: io.grpc.protobuf.StatusProto
# returns that jar's com.google.rpc.Status, which wxgate's status.proto
# (no java_* options, so StatusOuterClass.Status) could not stand in for.
protos=("$root"/proto/wxgate/v1/*.proto "$root"/proto/google/rpc/error_details.proto)
if newer_than "$out/stubs.stamp" "${protos[@]}" "$here/build.sh"; then
  rm -rf "$out/gen" "$out/stub-classes" "$out/stubs.stamp"
  mkdir -p "$out/gen" "$out/stub-classes"
  protoc -I "$root/proto" --java_out="$out/gen" \
    --plugin=protoc-gen-grpc-java="$(command -v grpc_java_plugin)" --grpc-java_out="$out/gen" \
    "${protos[@]}"
  find "$out/gen" -name '*.java' >"$out/gen.list"
  "${javac[@]}" -nowarn -d "$out/stub-classes" -cp "$compile_cp" "@$out/gen.list"
  touch "$out/stubs.stamp"
fi

sources=("$here"/src/dev/wxgate/example/*.java)
if newer_than "$out/client.stamp" "${sources[@]}" "$out/stubs.stamp"; then
  rm -rf "$out/classes" "$out/client.stamp"
  mkdir -p "$out/classes"
  "${javac[@]}" -Xlint:all -Werror -d "$out/classes" -cp "$out/stub-classes:$compile_cp" \
    "${sources[@]}"
  touch "$out/client.stamp"
fi

echo "$out/classes:$out/stub-classes:$(path_of "${run_jars[@]}")" >"$out/classpath"
