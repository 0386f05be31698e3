#!/usr/bin/env bash
# Regenerates Sources/SoftmaxONNX/Generated/onnx.pb.swift from the onnx.proto
# that ships with the `onnx` Python package, with protoc and swift-protobuf's
# protoc-gen-swift (the version Package.swift names). The output is
# committed, so that building the package needs neither.
#
#   apt-get install protobuf-compiler
#   python3 -m venv /tmp/venv-onnx && /tmp/venv-onnx/bin/pip install onnx
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   git -C /tmp/swift-protobuf checkout 1.39.0
#   swift build -c release --package-path /tmp/swift-protobuf --product protoc-gen-swift
#   PYTHON=/tmp/venv-onnx/bin/python \
#     PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift \
#     bash Scripts/generate_onnx_proto.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
plugin=${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}
proto_dir=$("$python" -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')
version=$("$python" -c 'import onnx; print(onnx.__version__)')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$proto_dir/onnx.proto" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$work" \
  --swift_opt=Visibility=Internal --swift_out="$work" "$work/onnx.proto"
out="$root/Sources/SoftmaxONNX/Generated/onnx.pb.swift"
{
  echo "// Generated from onnx.proto of the onnx Python package $version by"
  echo "// Scripts/generate_onnx_proto.sh (protoc $(protoc --version | cut -d' ' -f2),"
  echo "// protoc-gen-swift). Do not edit."
  echo
  cat "$work/onnx.pb.swift"
} > "$out"
echo "wrote $out (onnx $version)"
