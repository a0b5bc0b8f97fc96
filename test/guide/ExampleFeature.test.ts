// The README's "Add a feature" guide cannot rot: its code block is this directory's ExampleFeature.ts, and the feature
// runs in the real application graph (`App.make`) against the emulator.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { person, text } from "../../src/emulator/Updates.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import * as Numbers from "./ExampleFeature.ts"

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
const example = readFileSync(new URL("./ExampleFeature.ts", import.meta.url), "utf8")

describe("the Add a feature guide", () => {
  it("README - shows ExampleFeature.ts as it is", () => {
    const block = /<!-- example-feature -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    assert.isDefined(block, "the README has the example's code block")
    // The README shows the feature as a file of src/features, so its imports start one folder up.
    assert.strictEqual(block, example.replaceAll("../../src/", "../"))
  })

  it.live("App.make - the example feature answers /numbers in the real graph", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const app = yield* Layer.build(TestApp.layer({ features: Numbers.layer, database: TestDatabase.layer() }))
      const zoe = person(580_001, "Zoe")
      fake.push(text(zoe, "/numbers"))
      yield* fake.waitUntil(() => fake.callsTo("sendMessage").some((call) => call.body.chat_id === zoe.id))
      yield* Context.get(app, Dispatcher).awaitIdle
      const answer = fake.callsTo("sendMessage").find((call) => call.body.chat_id === zoe.id)
      assert.strictEqual(answer?.body.text, "📊 0 approved confessions, 0 comments.")
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })
})
