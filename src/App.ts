// Composition root: infrastructure (config, logging, database), services, the update pipeline (router,
// dispatcher, polling or webhook) and the HTTP server, with the feature layers that register routes.
// End-to-end tests launch the same graph through `make` with a test database and a fake Bot API root.
import { type PgClient } from "@effect/sql-pg"
import { Effect, Layer, Option } from "effect"
import type { HttpRouter } from "effect/http"
import type { SqlClient } from "effect/sql"
import { AppConfig } from "./AppConfig.ts"
import * as Admin from "./features/Admin.ts"
import * as CommentsFeature from "./features/Comments.ts"
import * as Confess from "./features/Confess.ts"
import * as Fallback from "./features/Fallback.ts"
import * as FeedbackFeature from "./features/Feedback.ts"
import * as Help from "./features/Help.ts"
import * as Moderate from "./features/Moderate.ts"
import * as MyComments from "./features/MyComments.ts"
import * as PersonalDataFeature from "./features/PersonalData.ts"
import * as Profile from "./features/Profile.ts"
import * as ReactionsFeature from "./features/Reactions.ts"
import * as Reports from "./features/Reports.ts"
import * as Start from "./features/Start.ts"
import * as Logging from "./Logging.ts"
import * as Health from "./http/Health.ts"
import * as Metrics from "./http/Metrics.ts"
import * as Server from "./http/Server.ts"
import { ActivityLimits } from "./services/ActivityLimits.ts"
import { AdminNotifications } from "./services/AdminNotifications.ts"
import { Comments } from "./services/Comments.ts"
import { ConfessionLimits } from "./services/ConfessionLimits.ts"
import { Confessions } from "./services/Confessions.ts"
import { Feedback } from "./services/Feedback.ts"
import { Moderation } from "./services/Moderation.ts"
import { PersonalData } from "./services/PersonalData.ts"
import { BotIdentity } from "./services/BotIdentity.ts"
import { ChannelPosts } from "./services/ChannelPosts.ts"
import { Courier } from "./services/Courier.ts"
import { Reactions } from "./services/Reactions.ts"
import * as SharedState from "./services/SharedState.ts"
import { StatsCache } from "./services/StatsCache.ts"
import { StatsQueries } from "./services/StatsQueries.ts"
import { Telegram } from "./services/Telegram.ts"
import { Users } from "./services/Users.ts"
import * as Database from "./sql/Database.ts"
import { Dispatcher } from "./updates/Dispatcher.ts"
import * as Polling from "./updates/Polling.ts"
import { Inbox } from "./sql/Inbox.ts"
import { Leadership } from "./sql/Leadership.ts"
import { Outbox } from "./sql/Outbox.ts"
import { Processed } from "./sql/Processed.ts"
import { Router } from "./updates/Router.ts"
import * as Webhook from "./updates/Webhook.ts"
import * as Messages from "./views/Messages.ts"

/** What the courier writes itself, rendered by the views. */
const courierTexts = { channelPostFailing: Messages.channelPostFailing }

/**
 * Everything handlers may use, bottom-up: the update ledger, users, the Telegram client, the statistics cache, the
 * outbox with the admins' fan-out and the courier that delivers it, and the repositories on top.
 */
export const services = Layer.mergeAll(
  Confessions.layerConfig,
  Moderation.layer,
  ConfessionLimits.layerConfig,
  ActivityLimits.layerConfigNoDeps,
  Comments.layerConfig,
  Reactions.layerConfig,
  Feedback.layerConfig,
  ChannelPosts.layerConfig,
  PersonalData.layerNoDeps(),
  BotIdentity.layer
).pipe(
  Layer.provideMerge(Courier.layer({ texts: courierTexts })),
  Layer.provideMerge(AdminNotifications.layerConfig),
  Layer.provideMerge(Outbox.layer),
  Layer.provideMerge(StatsCache.layerConfig.pipe(Layer.provide(StatsQueries.layer))),
  Layer.provideMerge(
    Layer.unwrap(
      Effect.gen(function* () {
        const users = yield* Users
        return Telegram.layerConfig({ onBlocked: users.markInactive })
      })
    )
  ),
  Layer.provideMerge(Users.layer),
  Layer.provideMerge(Processed.layer({ retention: "48 hours", pruneInterval: "1 hour" })),
  // Conversation state, rate limits, per-user leases, stats invalidation: in memory, or in Redis with REDIS_URL.
  Layer.provideMerge(SharedState.layerConfig)
)

export type Services = Layer.Success<typeof services>

export interface AppOptions<E, R> {
  /** Feature layers: they register their routes with the Router while they are built. */
  readonly features: Layer.Layer<never, E, R>
  readonly database: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown, AppConfig>
  /** More routes on the same HTTP server (the playground's page and API). */
  readonly routes?: Layer.Layer<never, never, HttpRouter.HttpRouter> | undefined
}

/**
 * The whole bot, given its features and a database; needs only `AppConfig`. Built bottom-up (database, services
 * and router, features, dispatcher, update source, HTTP server) and closed in reverse, so the server stops taking
 * webhooks and polling stops before the dispatcher drains and the pool closes.
 */
export const make = <E, R>(options: AppOptions<E, R>) => {
  const source = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return Option.match(config.webhook, {
        onNone: () =>
          Polling.layerConfig.pipe(
            Layer.provide(Inbox.layer({ retention: "48 hours", cleanInterval: "1 minute" })),
            // Several polling processes on one PostgreSQL database: the holder of an advisory lock polls.
            Layer.provide(
              Option.match(config.databaseUrl, {
                onNone: () => Leadership.layerAlways,
                onSome: (url) => Leadership.layerAdvisoryLock({ url })
              })
            )
          ),
        onSome: Webhook.layerConfig
      })
    })
  )
  const http = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const webhookRoutes = Option.match(config.webhook, { onNone: () => Layer.empty, onSome: Webhook.routes })
      return Server.layer(Layer.mergeAll(Health.layer, Metrics.layer, webhookRoutes, options.routes ?? Layer.empty), {
        port: config.httpPort,
        host: config.httpHost
      })
    })
  )
  return http.pipe(
    Layer.provideMerge(source),
    Layer.provideMerge(Dispatcher.layerConfig),
    Layer.provideMerge(options.features),
    Layer.provideMerge(Router.layer(Messages.routerTexts)),
    Layer.provideMerge(services),
    Layer.provideMerge(options.database),
    Layer.provideMerge(Logging.layerConfig)
  )
}

/**
 * Every feature registers its routes here. Fallback must be the only fallback; Comments owns the deep link and the
 * page-counter button.
 */
export const features = Layer.mergeAll(
  Start.layer,
  Help.layer,
  Confess.layer,
  Moderate.layer,
  Profile.layer,
  Admin.layer,
  CommentsFeature.layer,
  ReactionsFeature.layer,
  Reports.layer,
  FeedbackFeature.layer,
  MyComments.layer,
  PersonalDataFeature.layer,
  Fallback.layer
)

export const layer = make({ features, database: Database.layerConfig }).pipe(Layer.provide(AppConfig.layerConfig))
