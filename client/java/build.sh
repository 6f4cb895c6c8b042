#!/bin/bash
# Builds the Java client from Debian 12's packages alone (no Maven, no Gradle):
# generates the wxgate.v1 stubs with the system protoc and Debian's grpc-java
# plugin, compiles them and src/ with javac against the jars in /usr/share/java,
# and writes the run-time class path to OUT/classpath.
#
#   client/java/build.sh OUT        # then:
#   java -cp "$(cat OUT/classpath)" dev.wxgate.example.StoriesMain < inputs.json
#
# Reruns only what changed: the stubs when a .proto did, the client when src/ did.
# Exit status 3: a package is missing (the message names it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$(mkdir -p "${1:?usage: build.sh OUT}" && cd "$1" && pwd)"
jars=/usr/share/java

# Jar -> the Debian package that ships it. Compile time needs the first group;
# run time all but the javax.annotation one (@Generated is source-retention).
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
)
compile_jars=(grpc-api grpc-stub grpc-protobuf protobuf protobuf-util
  proto-google-common-protos guava error_prone_annotations gson geronimo-annotation-1.3-spec)
run_jars=(grpc-api grpc-context grpc-core grpc-stub grpc-protobuf grpc-protobuf-lite grpc-netty
  protobuf protobuf-util proto-google-common-protos guava gson perfmark-api
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-common netty-handler
  netty-resolver netty-transport)

missing=()
for jar in "${!package_of[@]}"; do
  [[ -f "$jars/$jar.jar" ]] || missing+=("${package_of[$jar]} ($jar.jar)")
done
for tool in protoc /usr/bin/grpc_java_plugin javac; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  printf 'build.sh: missing (apt-get install the packages):\n' >&2
  printf '  %s\n' "${missing[@]}" protobuf-compiler-grpc-java-plugin default-jdk-headless |
    sort -u >&2
  exit 3
fi

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
    --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin --grpc-java_out="$out/gen" \
    "${protos[@]}"
  find "$out/gen" -name '*.java' >"$out/gen.list"
  javac -nowarn -d "$out/stub-classes" -cp "$compile_cp" "@$out/gen.list"
  touch "$out/stubs.stamp"
fi

sources=("$here"/src/dev/wxgate/example/*.java)
if newer_than "$out/client.stamp" "${sources[@]}" "$out/stubs.stamp"; then
  rm -rf "$out/classes" "$out/client.stamp"
  mkdir -p "$out/classes"
  javac -Xlint:all -Werror -d "$out/classes" -cp "$out/stub-classes:$compile_cp" "${sources[@]}"
  touch "$out/client.stamp"
fi

echo "$out/classes:$out/stub-classes:$(path_of "${run_jars[@]}")" >"$out/classpath"
