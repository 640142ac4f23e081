#!/usr/bin/env bash
# Prints the path of a Go command-line tool the project uses, built first with `go install` into
# .orrery/bin at the version pinned here when it is missing or of another version:
#   bash infra/dev/go-tool.sh grpcurl   # the README's API examples (npm start installs it)
#   bash infra/dev/go-tool.sh ghz       # npm run bench:ghz
# A first build takes about a minute on two cores; later calls print the path at once.
set -euo pipefail
cd "$(dirname "$0")/../.."

case "${1:-}" in
  grpcurl) module=github.com/fullstorydev/grpcurl/cmd/grpcurl version=v1.9.3 ;;
  ghz) module=github.com/bojand/ghz/cmd/ghz version=v0.93.0 ;;
  *)
    echo "usage: bash infra/dev/go-tool.sh grpcurl|ghz" >&2
    exit 2
    ;;
esac

bin="${PWD}/.orrery/bin"
tool="${bin}/$1"
stamp="${tool}.version"
if [[ ! -x "${tool}" || "$(cat "${stamp}" 2>/dev/null)" != "${module}@${version}" ]]; then
  command -v go >/dev/null || { echo "$1 needs Go to install (https://go.dev/dl/)" >&2; exit 1; }
  echo "installing $1 ${version} into .orrery/bin with go install (a first build takes about a minute)…" >&2
  mkdir -p "${bin}"
  GOBIN="${bin}" go install "${module}@${version}" >&2
  printf '%s\n' "${module}@${version}" >"${stamp}"
fi
printf '%s\n' "${tool}"
