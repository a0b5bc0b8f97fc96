// The "Add a feature" example of the README, verbatim (test/guide/ExampleFeature.test.ts checks both): `/numbers`
// answers with the sender's own numbers. One file: the route, one service call, a pure view.
import { Effect, Layer } from "effect"
import type { ProfileStats } from "../../src/domain/Profile.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import { Router } from "../../src/updates/Router.ts"
import { count } from "../../src/views/Messages.ts"

/** The view: plain data in, HTML out (nothing here is user text, so nothing needs escaping). */
export const numbers = (stats: ProfileStats): string =>
  `📊 ${count(stats.approvedConfessions)} approved confessions, ${count(stats.commentsWritten)} comments.`

/** The feature: registers its route while its layer is built; the handler parses, calls a service, renders. */
export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const stats = yield* StatsCache
    const telegram = yield* Telegram
    yield* router.onCommand(
      "numbers",
      Effect.fn("Numbers.show")(function* (context) {
        const mine = yield* stats.profileOf(context.user.id)
        yield* telegram.sendMessage(context.chatId, numbers(mine))
      })
    )
  })
)
