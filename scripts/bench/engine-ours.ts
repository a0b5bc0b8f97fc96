// Engine-only benchmark, our side: the real application graph (`App.make`: database, services, router with its
// error boundary, dispatcher, long polling, Telegram client, /metrics on HTTP_PORT) with one feature, a no-op
// fallback route that answers "ok"; buttons get the router's own answer for a button no feature registered.
// Started as a separate process by `run.ts` (scenario e).
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as App from "../../src/App.ts"
import { AppConfig } from "../../src/AppConfig.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import * as Database from "../../src/sql/Database.ts"
import { Router } from "../../src/updates/Router.ts"

const noop = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram
    yield* router.onFallback((context) => Effect.asVoid(telegram.sendMessage(context.chatId, "ok")))
  })
)

const engine = App.make({ features: noop, database: Database.layerConfig }).pipe(Layer.provide(AppConfig.layerConfig))

// A script entry point: the one place a run function is allowed.
NodeRuntime.runMain(Layer.launch(engine))
