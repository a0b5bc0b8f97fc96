import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as DeepLink from "../../src/domain/DeepLink.ts"
import { ConfessionId } from "../../src/domain/Ids.ts"
import { BotIdentity } from "../../src/services/BotIdentity.ts"
import { defaultRateLimits, Telegram } from "../../src/services/Telegram.ts"
import { botInfo, BotApiEmulator, token } from "../../src/emulator/BotApiEmulator.ts"
import { usersOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const telegram = Layer.unwrap(
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    return Telegram.layer({ token, apiRoot: fake.apiRoot, rateLimits: defaultRateLimits, backoffBase: "1 millis" })
  })
)

const world = telegram.pipe(Layer.provideMerge(Layer.mergeAll(BotApiEmulator.layer(), usersOnDatabase())))

describe("BotIdentity", () => {
  layer(world, { timeout: "120 seconds", excludeTestServices: true })(TestDatabase.backend, (it) => {
    it.effect("layer - asks getMe once and builds deep links with the bot's username", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        const before = fake.callsTo("getMe").length
        const bot = yield* BotIdentity.pipe(Effect.provide(BotIdentity.layer))
        assert.strictEqual(bot.username, botInfo.username)
        assert.strictEqual(bot.id, botInfo.id)
        assert.strictEqual(
          bot.startUrl(DeepLink.OpenComments(ConfessionId.make(42))),
          `https://t.me/${botInfo.username}?start=c42`
        )
        assert.strictEqual(fake.callsTo("getMe").length - before, 1)
      }))

    it.effect("layer - a rejected token stops the build with BotIdentityError Unreachable", () =>
      Effect.gen(function* () {
        const fake = yield* BotApiEmulator
        fake.script("getMe", { status: 401, body: { ok: false, error_code: 401, description: "Unauthorized" } })
        const error = yield* Effect.flip(BotIdentity.pipe(Effect.provide(BotIdentity.layer)))
        assert.strictEqual(error._tag, "BotIdentityError")
        assert.strictEqual(error.reason, "Unreachable")
        assert.include(error.message, "Unauthorized")
      }))
  })
})
