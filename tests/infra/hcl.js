// Parses or formats HCL files for the infra checks (tests/infra/*.py call this).
//   node hcl.js parse FILE...   -> {"FILE": <hcl2json document>, ...}
//   node hcl.js format FILE...  -> {"FILE": "<formatted text>", ...}
// Errors go to stderr with the file name, and the exit code is 1.
"use strict";
const fs = require("fs");
const path = require("path");
const { parse } = require("@cdktf/hcl2json");
const { format } = require("@cdktf/hcl-tools");

async function main() {
  const [mode, ...files] = process.argv.slice(2);
  if (mode !== "parse" && mode !== "format") {
    process.stderr.write("usage: node hcl.js parse|format FILE...\n");
    return 2;
  }
  const out = {};
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    try {
      out[file] = mode === "parse" ? await parse(path.basename(file), text) : await format(text);
    } catch (e) {
      process.stderr.write(`${file}: ${e && e.message ? e.message : e}\n`);
      return 1;
    }
  }
  process.stdout.write(JSON.stringify(out));
  return 0;
}

// exitCode, not exit(): exit() would cut stdout short when it is a pipe.
main().then((rc) => { process.exitCode = rc; }, (e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
