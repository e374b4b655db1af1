#!/usr/bin/env bash
# The other languages' bindings, from the .jsii assembly `npm run jsii` wrote, as far as this machine can take them
# offline (no PyPI, Maven Central, NuGet or Go module proxy; a local mirror of some Python build tools):
#   - jsii-pacmak generates the Python, Java, .NET and Go sources (--code-only: it compiles none of them);
#   - Python: the generated sources byte-compile, and the wheel is built with setuptools and wheel from the local
#     package mirror (no build isolation: the pinned build tools pacmak asks for are not mirrored). It is not
#     installed: its dependencies (jsii, aws-cdk-lib, constructs for Python) are on PyPI only;
#   - Java: not compiled: the jsii runtime and aws-cdk-lib's Maven artifacts are not in the local repository;
#   - .NET and Go: not compiled: no dotnet or go toolchain here, and their packages come from NuGet and the Go proxy.
# Prints what it built and what it could not, and fails if a step that can run here fails.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f .jsii ] || { echo "no .jsii assembly: run 'npm run jsii' first" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx jsii-pacmak --code-only --targets python,java,dotnet,go -o "$out/src" >/dev/null 2>"$out/pacmak.log" \
  || { cat "$out/pacmak.log" >&2; exit 1; }
for lang in python java dotnet go; do
  printf 'generated %-6s %4d source files\n' "$lang" "$(find "$out/src/$lang" -type f \( -name '*.py' -o -name '*.java' -o -name '*.cs' -o -name '*.go' \) | wc -l)"
done

python3 -m compileall -q "$out/src/python/src" >/dev/null || { echo "the generated Python does not compile" >&2; exit 1; }
echo "python: every generated module byte-compiles"
python3 -m venv "$out/venv"
if "$out/venv/bin/pip" install -q --disable-pip-version-check setuptools wheel >"$out/pip.log" 2>&1; then
  "$out/venv/bin/pip" wheel -q --no-deps --no-build-isolation --no-index -w "$out/wheel" "$out/src/python" >"$out/wheel.log" 2>&1 \
    || { cat "$out/wheel.log" >&2; exit 1; }
  wheel="$(ls "$out/wheel")"
  echo "python: built $wheel ($(du -k "$out/wheel/$wheel" | cut -f1) KB); not installed: jsii, aws-cdk-lib and constructs for Python are on PyPI only"
else
  echo "python: wheel not built: setuptools and wheel could not be installed from this machine's package index (see below)"
  tail -3 "$out/pip.log"
fi
echo "java: generated, not compiled (software.amazon.jsii and software.amazon.awscdk are on Maven Central only)"
echo "dotnet: generated, not compiled (no dotnet SDK; Amazon.JSII.Runtime and Amazon.CDK.Lib are on NuGet only)"
echo "go: generated, not compiled (no go toolchain; github.com/aws/jsii-runtime-go and aws-cdk-go come from the Go module proxy)"
