// `npm run check` refuses imports against the layering: the rules run on small trees laid out like src/, one clean
// and one per kind of violation, so a rule that silently matches nothing fails here.
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const repo = Path.resolve(import.meta.dirname, "../..")
const depcruise = Path.join(repo, "node_modules/.bin/depcruise")
const rules = Path.join(repo, "scripts/dependency-rules.cjs")

/** Writes the files into a fresh directory and runs the project's dependency rules over its src/. */
const cruise = (files: Record<string, string>) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "dependency-rules-"))
  for (const [name, text] of Object.entries(files)) {
    Fs.mkdirSync(Path.dirname(Path.join(dir, name)), { recursive: true })
    Fs.writeFileSync(Path.join(dir, name), text)
  }
  Fs.copyFileSync(Path.join(repo, "tsconfig.json"), Path.join(dir, "tsconfig.json"))
  const run = spawnSync(depcruise, ["--config", rules, "src"], { cwd: dir, encoding: "utf8" })
  Fs.rmSync(dir, { recursive: true, force: true })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

const layered = {
  "src/domain/Ids.ts": "export type Id = number\n",
  "src/sql/Rows.ts": 'import type { Id } from "../domain/Ids.ts"\nexport const row = (id: Id) => id\n',
  "src/services/Users.ts": 'import { row } from "../sql/Rows.ts"\nexport const user = row\n',
  "src/views/Messages.ts": 'import type { Id } from "../domain/Ids.ts"\nexport const hi = (id: Id) => `${id}`\n',
  "src/features/Start.ts":
    'import { user } from "../services/Users.ts"\nimport { hi } from "../views/Messages.ts"\nexport const start = () => hi(user(1))\n'
}

describe("dependency rules", () => {
  it("check - a tree that imports downwards only passes", () => {
    const result = cruise(layered)
    assert.strictEqual(result.status, 0, result.output)
  })

  it("check - an upward import, a view reaching into a service, and a circle each fail with the rule's name", () => {
    const cases: ReadonlyArray<readonly [string, Record<string, string>]> = [
      ["services-below-updates", { "src/services/Users.ts": 'import { hi } from "../views/Messages.ts"\nexport const user = hi\n' }],
      ["views-import-only-domain", { "src/views/Messages.ts": 'import type { user } from "../services/Users.ts"\nexport type U = typeof user\n' }],
      ["domain-is-pure", { "src/domain/Ids.ts": 'import { row } from "../sql/Rows.ts"\nexport const id = row\n' }],
      ["features-are-independent", { "src/features/Help.ts": 'import { start } from "./Start.ts"\nexport const help = start\n' }],
      ["no-circular", { "src/sql/Rows.ts": 'import { other } from "./Other.ts"\nexport const row = other\n', "src/sql/Other.ts": 'import { row } from "./Rows.ts"\nexport const other = (x: number) => x\nexport const again = row\n' }]
    ]
    for (const [rule, files] of cases) {
      const result = cruise({ ...layered, ...files })
      assert.notStrictEqual(result.status, 0, rule)
      assert.include(result.output, rule)
    }
  })
})
