// `npm start` on a Node older than 22.19: one line saying what is needed and how to get it, before any `.ts` file is
// loaded (which on such a Node dies with ERR_UNKNOWN_FILE_EXTENSION and a stack trace).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"

const start = fileURLToPath(new URL("../../scripts/start.mjs", import.meta.url))

const versionOf = (node: string): string => execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).trim()

/** The machine's own Node when it is older than 22.19 (Debian's is 20), to try the real thing. */
const oldNode = (() => {
  if (!Fs.existsSync("/usr/bin/node")) return undefined
  const [major = 0, minor = 0] = versionOf("/usr/bin/node").split(".").map(Number)
  return major < 22 || (major === 22 && minor < 19) ? { path: "/usr/bin/node", version: versionOf("/usr/bin/node") } : undefined
})()

const run = (command: string, args: ReadonlyArray<string>) =>
  Effect.callback<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }, Error>((resume) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", (error) => resume(Effect.fail(error)))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill())
  })

const expectOneLine = (result: { readonly code: number | null; readonly stdout: string; readonly stderr: string }, version: string) => {
  assert.strictEqual(result.code, 1)
  assert.strictEqual(result.stdout, "")
  const lines = result.stderr.split("\n").filter((line) => line.length > 0)
  assert.deepStrictEqual(lines, [
    `confessions-bot needs Node.js 22.19 or newer, and this is Node.js ${version}: install a current Node.js 22 or 24 ` +
      "(https://nodejs.org, or `nvm install 22`), then run `npm install` and `npm start` again."
  ])
}

describe("start", () => {
  it.effect("start.mjs - on Node 22.18 one line says what is needed and how to get it, and nothing is loaded", () =>
    Effect.gen(function* () {
      // This Node, told it is 22.18 before start.mjs runs.
      const fake = `Object.defineProperty(process.versions, "node", { value: "22.18.0" }); await import(${JSON.stringify(start)})`
      expectOneLine(yield* run(process.execPath, ["--input-type=module", "-e", fake]), "22.18.0")
    }))

  it.effect.skipIf(oldNode === undefined)("start.mjs - the machine's own older Node (Debian's 20) gets the same line", () =>
    Effect.gen(function* () {
      if (oldNode === undefined) return
      expectOneLine(yield* run(oldNode.path, [start]), oldNode.version)
    }))
})
