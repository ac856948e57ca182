import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { flagName, SETTINGS } from "../../src/platform/config/index.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

describe("README", () => {
  it("documents every setting with its variable and flag, and no setting that does not exist", () => {
    const rows = readme.split("\n").filter((l) => /^\| `[A-Z0-9_]+` \| `--/.test(l));
    const documented = rows.map((l) =>
      /^\| `([A-Z0-9_]+)` \| `(--[a-z0-9-]+)`/.exec(l)!.slice(1, 3).join(" "),
    );
    const actual = Object.entries(SETTINGS).map(([k, d]) => `${d.env} --${flagName(k)}`);
    assert.deepEqual(documented.sort(), actual.sort());
  });

  it("says why each production dependency is there", () => {
    const table = readme.slice(readme.indexOf("## Dependencies and why"));
    for (const dep of Object.keys(pkg.dependencies)) {
      const short = dep.replace(/^@aws-sdk\//, "");
      assert.ok(table.includes(dep) || table.includes(short), `${dep} is not explained in the README`);
    }
  });

  it("quick start commands exist", () => {
    assert.match(readme, /bash scripts\/demo\.sh/);
    assert.match(readme, /^npm test\b/m);
    assert.ok(pkg.scripts["test"], "npm test is defined");
  });
});
