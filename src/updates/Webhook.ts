// Webhook mode: Telegram POSTs each update to our HTTP server. A request without the right secret token is refused
// (401) and an oversized one too (413), before anything is processed; a valid update is answered 200 only after it
// was handled, so Telegram redelivers anything we did not finish. A malformed update (valid JSON that fails the edge
// check) is recorded and answered 200 at once: Telegram would otherwise resend the same junk for hours.
import { ByteSize, Duration, Effect, Layer, Redacted, Schema } from "effect"
import { HttpIncomingMessage, HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import { timingSafeEqual } from "node:crypto"
import { AppConfig, type WebhookSettings } from "../AppConfig.ts"
import { Telegram, type TelegramError } from "../services/Telegram.ts"
import { publishRole } from "../sql/Leadership.ts"
import { Dispatcher } from "./Dispatcher.ts"
import { Router } from "./Router.ts"
import { UpdateSource } from "./UpdateSource.ts"

/** Telegram updates are a few kilobytes; anything near this is not one. */
export const maxBodyBytes = 1024 * 1024

const parseJson = Schema.decodeUnknownEffect(Schema.fromJsonString(Schema.Unknown))

/** The POST route at WEBHOOK_URL's path. */
export const routes = (settings: WebhookSettings): Layer.Layer<never, never, HttpRouter.HttpRouter | Dispatcher> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const dispatcher = yield* Dispatcher
      return HttpRouter.add("POST", new URL(settings.url).pathname as HttpRouter.PathInput, (request) =>
        handle(dispatcher, settings, request)
      )
    })
  )

const handle = (dispatcher: Dispatcher["Service"], settings: WebhookSettings, request: HttpServerRequest.HttpServerRequest) =>
    Effect.gen(function* () {
      if (!secretMatches(request.headers["x-telegram-bot-api-secret-token"], settings.secret)) {
        return HttpServerResponse.empty({ status: 401 })
      }
      if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) return HttpServerResponse.empty({ status: 413 })
      const body = yield* request.text.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes)),
        Effect.option
      )
      if (body._tag === "None") return HttpServerResponse.empty({ status: 413 })
      const json = yield* parseJson(body.value).pipe(Effect.option)
      if (json._tag === "None") return HttpServerResponse.empty({ status: 400 })
      const update = yield* dispatcher.screen(json.value, "webhook")
      if (update._tag === "Some") yield* dispatcher.submit(update.value)
      return HttpServerResponse.empty({ status: 200 })
    })

/** Registers the webhook with Telegram at start-up. */
export const layer = (
  settings: WebhookSettings,
  options: { readonly shutdownGrace: Duration.Input }
): Layer.Layer<UpdateSource, TelegramError, Telegram | Dispatcher | Router> =>
  Layer.effect(
    UpdateSource,
    Effect.gen(function* () {
      const telegram = yield* Telegram
      const router = yield* Router
      const dispatcher = yield* Dispatcher
      yield* telegram.setWebhook(settings.url, Redacted.value(settings.secret), router.allowedUpdates)
      yield* Effect.logInfo("webhook registered")
      yield* publishRole("webhook")
      yield* Effect.addFinalizer(() => dispatcher.drain(options.shutdownGrace))
      return UpdateSource.of({ mode: "webhook", role: Effect.succeed("webhook"), isRunning: Effect.succeed(true) })
    })
  )

export const layerConfig = (
  settings: WebhookSettings
): Layer.Layer<UpdateSource, TelegramError, Telegram | Dispatcher | Router | AppConfig> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return layer(settings, { shutdownGrace: config.shutdownGrace })
    })
  )

const secretMatches = (given: string | undefined, expected: Redacted.Redacted<string>) => {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(Redacted.value(expected))
  return a.length === b.length && timingSafeEqual(a, b)
}

