#!/usr/bin/env bash
# Installs what the suite needs and is missing: Chromium from the distribution's
# packages, each client fixture's npm packages (npm ci, from the committed
# lockfile) and build, and the npm packages of the providers the certify tests
# run. Safe to run again: it skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CHROME_BIN:-}" ]; then
  [ -x "$CHROME_BIN" ] || { echo "setup: CHROME_BIN=$CHROME_BIN is not an executable" >&2; exit 2; }
elif ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
    && ! command -v google-chrome >/dev/null 2>&1; then
  echo "setup: installing Chromium (apt-get install chromium)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# npm ci in dir, unless its node_modules is newer than its lockfile.
npm_ci() {
  local dir=$1 stamp="$1/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

for pkg in fixtures/*/package.json; do
  dir=$(dirname "$pkg")
  npm_ci "$dir"
  # Rebuild when any source is newer than the bundle.
  if [ ! -d "$dir/dist" ] || [ -n "$(find "$dir/src" "$dir/build.mjs" "$dir/package-lock.json" -newer "$dir/dist" -print -quit 2>/dev/null)" ]; then
    echo "setup: building $dir"
    (cd "$dir" && npm run --silent build)
    touch "$dir/dist"
  fi
done

# The providers the certify tests run from npm (certify/testdata/*/): their
# packages only, nothing to build.
for pkg in certify/testdata/*/package.json; do
  npm_ci "$(dirname "$pkg")"
done
