// The playground's page and its API on the bot's own HTTP server: the page's files, the chats as the emulator holds
// them (`GET /api/state`, and live as server-sent events on `GET /api/events`), acting as a demo person
// (`POST /api/send`, `/api/send-media`, `/api/press`), starting over (`POST /api/reset`) and a placeholder image for
// any photo's file_id. Messages travel as Telegram's own objects (text plus entities, never HTML), so the page builds
// them with DOM text nodes and has nothing to sanitise. Answers only requests addressed to the loopback name, and
// POSTs only with a JSON body from its own origin, so no other web page open in the browser can drive it.
import { Effect, Layer, Queue, Schema, Stream } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { ChatEvent, EmulatorEvent } from "../emulator/BotApiEmulator.ts"
import { BotApiEmulator } from "../emulator/BotApiEmulator.ts"
import type { Content } from "../emulator/Updates.ts"
import * as Demo from "./Demo.ts"

/** The page's files, read once at start. */
export interface PageFiles {
  readonly [name: string]: { readonly body: string; readonly contentType: string }
}

export interface RoutesOptions {
  readonly page: PageFiles
  /** Changes with every reset, so an open page knows it looks at a new playground. */
  readonly session: string
  /** Asks the playground to start over; answers at once, the reset follows. */
  readonly requestReset: Effect.Effect<void>
  /** Completes when this session closes: open event streams end then, so the server can close. */
  readonly closing: Effect.Effect<void>
  /** What the page says about how the playground differs from the real bot. */
  readonly notes: ReadonlyArray<string>
}

export const layer = (options: RoutesOptions): Layer.Layer<never, never, HttpRouter.HttpRouter | BotApiEmulator> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const emulator = yield* BotApiEmulator
      const channelId = emulator.chat(Demo.channel).chatId
      const chatIds = [...Demo.people.map((p) => p.id), channelId]
      const shown = new Set(chatIds)

      const chatOf = (chatId: number) => {
        const view = emulator.chat(chatId)
        return { chatId, messages: view.messages, replyKeyboard: view.replyKeyboard ?? null }
      }

      const state = () => ({
        session: options.session,
        bot: { name: Demo.bot.first_name, username: Demo.bot.username },
        channel: { chatId: channelId, title: Demo.channelTitle, username: Demo.channel.replace(/^@/, "") },
        people: Demo.people.map((p) => ({ id: p.id, name: p.first_name, username: p.username ?? null, role: p.role })),
        chats: chatIds.map(chatOf),
        notes: options.notes
      })

      /** What the page needs to know of an emulator event; `undefined` for events outside the shown chats. */
      const change = (event: EmulatorEvent) => {
        if (event._tag === "UpdatesDelivered") return undefined
        if (event.chatId === undefined || !shown.has(event.chatId)) return undefined
        return toChange(event, event.chatId)
      }
      const toChange = (event: ChatEvent, chatId: number) => {
        switch (event._tag) {
          case "MessageSent":
          case "MessageReceived":
          case "MessageEdited":
            return {
              kind: "message",
              chatId,
              message: event.message,
              replyKeyboard: emulator.chat(chatId).replyKeyboard ?? null
            }
          case "MessageDeleted":
            return { kind: "deleted", chatId, messageId: event.messageId }
          case "CallbackAnswered":
            return { kind: "answer", chatId, text: event.text ?? null, showAlert: event.showAlert }
        }
      }

      const events = Stream.callback<string>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            // Listening and taking the state happen in one synchronous step: no change falls between them.
            const unlisten = emulator.listen((event) => {
              const next = change(event)
              if (next !== undefined) Queue.offerUnsafe(queue, frame("change", next))
            })
            Queue.offerUnsafe(queue, `retry: 500\n\n${frame("state", state())}`)
            return unlisten
          }),
          (unlisten) => Effect.sync(unlisten)
        )
      ).pipe(
        // A comment now and then keeps proxies and idle timers from closing a quiet stream.
        Stream.merge(Stream.map(Stream.tick("20 seconds"), () => ": keep-alive\n\n")),
        Stream.interruptWhen(options.closing),
        Stream.encodeText
      )

      const personOf = (id: number) => Demo.people.find((p) => p.id === id)
      const badRequest = (error: string) => HttpServerResponse.jsonUnsafe({ error }, { status: 400 })
      const noPerson = badRequest("no such demo person")

      const send = Effect.gen(function* () {
        const body = yield* HttpServerRequest.schemaBodyJson(SendText)
        const who = personOf(body.person)
        if (who === undefined) return noPerson
        if (body.text.trim().length === 0) return badRequest("empty message")
        const update = yield* emulator.send(who, body.text)
        return HttpServerResponse.jsonUnsafe({ updateId: update.update_id })
      })

      const sendMedia = Effect.gen(function* () {
        const body = yield* HttpServerRequest.schemaBodyJson(SendMedia)
        const who = personOf(body.person)
        if (who === undefined) return noPerson
        const caption = body.caption !== undefined && body.caption.trim().length > 0 ? body.caption : undefined
        const content: Content =
          body.media === "photo"
            ? { kind: "photo", caption }
            : body.media === "voice"
              ? { kind: "voice", seconds: 4 }
              : body.media === "document"
                ? { kind: "document", caption }
                : { kind: "sticker", emoji: "🐸" }
        const update = yield* emulator.send(who, content)
        return HttpServerResponse.jsonUnsafe({ updateId: update.update_id })
      })

      const press = Effect.gen(function* () {
        const body = yield* HttpServerRequest.schemaBodyJson(Press)
        const who = personOf(body.person)
        if (who === undefined) return noPerson
        // A person presses buttons in their own chat, or under a channel post.
        if (body.chatId !== who.id && body.chatId !== channelId) return badRequest("not this person's chat")
        return yield* emulator.press(who, body.chatId, body.messageId, body.data).pipe(
          Effect.map((update) => HttpServerResponse.jsonUnsafe({ updateId: update.update_id })),
          Effect.catchTag("EmulatorError", (error) =>
            Effect.succeed(HttpServerResponse.jsonUnsafe({ error: error.message }, { status: 404 }))
          )
        )
      })

      const reset = Effect.as(options.requestReset, HttpServerResponse.jsonUnsafe({ resetting: true }, { status: 202 }))

      const placeholder = Effect.map(HttpRouter.params, (params) =>
        HttpServerResponse.text(placeholderSvg(params.id ?? ""), {
          contentType: "image/svg+xml",
          headers: { "cache-control": "max-age=86400", "content-security-policy": "default-src 'none'" }
        })
      )

      const file = (name: string) => {
        const found = options.page[name]
        return found === undefined
          ? HttpServerResponse.text("not found", { status: 404 })
          : HttpServerResponse.text(found.body, { contentType: found.contentType, headers: pageHeaders })
      }

      return Layer.mergeAll(
        HttpRouter.add("GET", "/", guard(Effect.succeed(file("index.html")))),
        HttpRouter.add("GET", "/page/:name", guard(Effect.map(HttpRouter.params, (params) => file(params.name ?? "")))),
        HttpRouter.add("GET", "/api/state", guard(Effect.sync(() => HttpServerResponse.jsonUnsafe(state())))),
        HttpRouter.add(
          "GET",
          "/api/events",
          guard(
            Effect.succeed(
              HttpServerResponse.stream(events, {
                contentType: "text/event-stream",
                headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
              })
            )
          )
        ),
        HttpRouter.add("POST", "/api/send", guard(orBadRequest(send))),
        HttpRouter.add("POST", "/api/send-media", guard(orBadRequest(sendMedia))),
        HttpRouter.add("POST", "/api/press", guard(orBadRequest(press))),
        HttpRouter.add("POST", "/api/reset", guard(reset)),
        HttpRouter.add("GET", "/api/files/:id", guard(placeholder))
      )
    })
  )

const SendText = Schema.Struct({ person: Schema.Int, text: Schema.String.check(Schema.isMaxLength(4096)) })
const SendMedia = Schema.Struct({
  person: Schema.Int,
  media: Schema.Literals(["photo", "voice", "document", "sticker"]),
  caption: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))
})
const Press = Schema.Struct({
  person: Schema.Int,
  chatId: Schema.Int,
  messageId: Schema.Int,
  data: Schema.String.check(Schema.isMaxLength(64))
})

// The page loads only its own files and talks only to its own origin; no inline script or style anywhere, so even
// a rendering mistake could not run injected markup.
const pageHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

/**
 * Refuses requests not addressed to the loopback name (DNS rebinding) and cross-origin or non-JSON POSTs. Every
 * answer closes its connection: a kept-alive connection would outlive a reset and reach the old session's routes
 * (the server answers on open connections while it closes), and on the loopback a new connection costs nothing.
 */
const guard = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.map(checked(handler), HttpServerResponse.setHeader("connection", "close"))

const checked = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const host = request.headers["host"] ?? ""
    if (!/^(127\.0\.0\.1|localhost)(:[0-9]{1,5})?$/.test(host)) {
      return HttpServerResponse.text("The playground answers only at 127.0.0.1 or localhost.", { status: 403 })
    }
    if (request.method === "POST") {
      const origin = request.headers["origin"]
      if (origin !== undefined && origin !== `http://${host}`) return HttpServerResponse.text("cross-origin request refused", { status: 403 })
      if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
        return HttpServerResponse.text("expected a JSON body", { status: 415 })
      }
    }
    return yield* handler
  })

const orBadRequest = <R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, R>) =>
  Effect.catch(handler, () => Effect.succeed(HttpServerResponse.jsonUnsafe({ error: "malformed request" }, { status: 400 })))

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/** A landscape in colours taken from the file id: the same id always looks the same, different ids differ. */
const placeholderSvg = (fileId: string): string => {
  let hash = 2166136261
  for (let i = 0; i < fileId.length; i++) hash = Math.imul(hash ^ fileId.charCodeAt(i), 16777619)
  const hue = (hash >>> 0) % 360
  const sky = `hsl(${hue} 70% 72%)`
  const hill = `hsl(${(hue + 140) % 360} 45% 42%)`
  const far = `hsl(${(hue + 160) % 360} 35% 58%)`
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360" viewBox="0 0 480 360" role="img">` +
    `<rect width="480" height="360" fill="${sky}"/>` +
    `<circle cx="370" cy="90" r="42" fill="hsl(48 95% 62%)"/>` +
    `<path d="M0 260 L120 150 L230 250 L320 170 L480 280 V360 H0 Z" fill="${far}"/>` +
    `<path d="M0 300 Q140 220 260 290 T480 300 V360 H0 Z" fill="${hill}"/>` +
    `</svg>`
  )
}
