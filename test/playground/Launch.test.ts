// What `npm start` runs: the bot with a token, the playground without one (or when asked), and never the playground
// for a server (webhook mode, NODE_ENV=production); the start-up failures a newcomer meets, each in one line.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Config, ConfigProvider, Effect, Option } from "effect"
import { ServeError } from "effect/http/HttpServerError"
import * as Launch from "../../src/playground/Launch.ts"

const env = (argv: ReadonlyArray<string>, vars: { token?: string; mode?: string; nodeEnv?: string }): Launch.Environment => ({
  argv,
  botToken: Option.fromUndefinedOr(vars.token),
  botMode: Option.fromUndefinedOr(vars.mode),
  nodeEnv: Option.fromUndefinedOr(vars.nodeEnv)
})

describe("Launch", () => {
  it("choose - the bot with a token; the playground without, or with --playground; never for a server", () => {
    const cases: ReadonlyArray<readonly [Launch.Environment, string]> = [
      [env([], { token: "1:abc" }), "Bot"],
      [env([], {}), "Playground(asked=false, reset=false)"],
      [env([], { token: "   " }), "Playground(asked=false, reset=false)"],
      [env(["--reset"], {}), "Playground(asked=false, reset=true)"],
      [env(["--playground"], { token: "1:abc" }), "Playground(asked=true, reset=false)"],
      [env(["--playground", "--reset"], { token: "1:abc", mode: "webhook" }), "Playground(asked=true, reset=true)"],
      [env([], { mode: "webhook" }), "Bot"],
      [env([], { nodeEnv: "production" }), "Bot"],
      [env([], { mode: "polling", nodeEnv: "development" }), "Playground(asked=false, reset=false)"]
    ]
    for (const [input, expected] of cases) {
      const choice = Launch.choose(input)
      const shown = choice._tag === "Bot" ? "Bot" : `Playground(asked=${choice.asked}, reset=${choice.reset})`
      assert.strictEqual(shown, expected, JSON.stringify(input))
    }
  })

  it("announcement - the line the terminal shows", () => {
    assert.strictEqual(
      Launch.announcement("http://127.0.0.1:8080", false),
      "No BOT_TOKEN: local playground at http://127.0.0.1:8080 — nothing is sent to Telegram. Set BOT_TOKEN to run the real bot."
    )
    assert.include(Launch.announcement("http://127.0.0.1:8080", true), "Local playground at http://127.0.0.1:8080")
  })

  it.effect("startupProblem - a missing setting and a taken port in one line each; anything else is not one of them", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(
        Config.Redacted("BOT_TOKEN").parse(ConfigProvider.fromEnv({ env: {} }))
      )
      assert.strictEqual(Launch.startupProblem(Cause.fail(missing)), "configuration error: BOT_TOKEN is required but not set")
      const taken = Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:8080"), {
        code: "EADDRINUSE",
        port: 8080
      })
      const line = Launch.startupProblem(Cause.fail(new ServeError({ cause: taken })))
      assert.strictEqual(
        line,
        "HTTP_PORT 8080 is already in use (another bot or playground running?): stop it, or set HTTP_PORT to a free port"
      )
      assert.isUndefined(Launch.startupProblem(Cause.fail(new ServeError({ cause: new Error("EACCES") }))))
      assert.isUndefined(Launch.startupProblem(Cause.die("boom")))
    }))
})
