#!/usr/bin/env bash
# npm test: builds, starts the local engines it needs, runs every project's jest suite through Nx,
# and ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

bash infra/dev/prepare.sh || exit 1
bash infra/local/stack.sh up || exit 1
eval "$(bash infra/local/stack.sh env)"

# The build leaves test files out; this checks every source and test file in one program.
echo "typecheck: sources and tests…"
npx tsc -p libs/testing/tsconfig.typecheck.json
typecheck=$?

rm -f apps/*/jest-report.json libs/*/jest-report.json
NX_DAEMON=false NX_TUI=false npx nx run-many -t test --parallel=1 --outputStyle=stream -- --ci --json --outputFile=jest-report.json "$@"
status=$?

TYPECHECK_STATUS=$typecheck node -e '
const fs = require("fs");
let passed = 0, failed = 0;
if (process.env.TYPECHECK_STATUS !== "0") {
  console.log("typecheck: failed (see above)");
  failed += 1;
}
for (const dir of ["apps", "libs"]) {
  for (const project of fs.readdirSync(dir)) {
    const manifest = `${dir}/${project}/package.json`;
    if (!fs.existsSync(manifest) || !JSON.parse(fs.readFileSync(manifest, "utf8")).scripts?.test) continue;
    const file = `${dir}/${project}/jest-report.json`;
    if (!fs.existsSync(file)) {
      // A project whose suite crashed or found no tests counts as a failure, so it cannot hide.
      console.log(`${dir}/${project}: no test report`);
      failed += 1;
      continue;
    }
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  }
}
console.log(`${passed} passed, ${failed} failed`);
'
[ $typecheck -eq 0 ] || status=1
exit $status
