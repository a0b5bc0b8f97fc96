// Engine-only benchmark, our side: the real update pipeline (long polling, dispatcher with per-user order and
// UPDATE_CONCURRENCY, router with its error boundary, Telegram client) with one no-op fallback route that answers
// "ok"; buttons get the router's own answer for a button no feature registered. The router registers every sender
// (Users, which remembers recent users) and the dispatcher records handled ids in batches, both in the database,
// exactly as in the bot. /metrics is served on HTTP_PORT as in the bot. Started as a separate process by `run.ts`
// (scenario e).
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { AppConfig } from "../../src/AppConfig.ts"
import * as Logging from "../../src/Logging.ts"
import * as Metrics from "../../src/http/Metrics.ts"
import * as Server from "../../src/http/Server.ts"
import { ConversationStore } from "../../src/services/ConversationStore.ts"
import { Telegram } from "../../src/services/Telegram.ts"
import { Users } from "../../src/services/Users.ts"
import * as Database from "../../src/sql/Database.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import { Inbox } from "../../src/sql/Inbox.ts"
import * as Polling from "../../src/updates/Polling.ts"
import { Processed } from "../../src/sql/Processed.ts"
import { Router } from "../../src/updates/Router.ts"
import * as Messages from "../../src/views/Messages.ts"

const noop = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram
    yield* router.onFallback((context) => Effect.asVoid(telegram.sendMessage(context.chatId, "ok")))
  })
)

const metrics = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return Server.layer(Metrics.layer, { port: config.httpPort })
  })
)

const engine = metrics.pipe(
  Layer.provideMerge(Polling.layerConfig.pipe(Layer.provide(Inbox.layer({ retention: "48 hours", cleanInterval: "1 minute" })))),
  Layer.provideMerge(Dispatcher.layerConfig),
  Layer.provideMerge(noop),
  Layer.provideMerge(Router.layer(Messages.routerTexts)),
  Layer.provideMerge(ConversationStore.layerConfig),
  Layer.provideMerge(Telegram.layerConfig()),
  Layer.provideMerge(Users.layer),
  Layer.provideMerge(Processed.layer({ retention: "48 hours", pruneInterval: "1 hour" })),
  Layer.provideMerge(Database.layerConfig),
  Layer.provideMerge(Logging.layerConfig),
  Layer.provide(AppConfig.layerConfig)
)

// A script entry point: the one place a run function is allowed.
NodeRuntime.runMain(Layer.launch(engine))
