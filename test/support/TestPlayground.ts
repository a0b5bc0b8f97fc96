// Starts the real playground (Playground.run: the whole bot, the emulator, the page and its API) on a free port and a
// test database, and talks to it over HTTP as the page does: its event stream, read into a list that a test waits on,
// and its POST endpoints.
import { ConfigProvider, Deferred, Effect } from "effect"
import type { Message } from "grammy/types"
import { unthrottledEnv } from "../../src/emulator/BotApiEmulator.ts"
import * as Playground from "../../src/playground/Playground.ts"
import * as TestDatabase from "./TestDatabase.ts"

export const env: Record<string, string> = {
  HTTP_PORT: "0",
  LOG_LEVEL: "warn",
  LOG_FORMAT: "json",
  SHUTDOWN_GRACE: "2 seconds",
  CONFESSION_COOLDOWN: "0 seconds",
  ...unthrottledEnv
}

export interface PageEvent {
  readonly event: string
  // any: JSON from the page's stream, which each test reads field by field as the page does.
  readonly data: any
}

/**
 * The playground, running until the scope closes. `database` defaults to a fresh test database; `extraEnv` adds
 * settings (DATA_DIR for a playground on disk).
 */
export const start = (options: { readonly seed?: boolean; readonly extraEnv?: Record<string, string>; readonly onDisk?: boolean } = {}) =>
  Effect.gen(function* () {
    const ready = yield* Deferred.make<string>()
    yield* Playground.run({
      reset: false,
      seed: options.seed ?? false,
      database: options.onDisk === true ? undefined : TestDatabase.layer(),
      onReady: (url) => Deferred.succeed(ready, url).pipe(Effect.asVoid)
    }).pipe(
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...env, ...options.extraEnv } }))),
      Effect.forkScoped
    )
    const url = yield* Deferred.await(ready)
    return client(url)
  })

/** Talks to a running playground at `url`. */
export const client = (url: string) => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    Effect.promise(async () => {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body)
      })
      const text = await response.text()
      return { status: response.status, body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : text }
    })

  /** GET /api/state, or `undefined` while nothing answers (during a reset). */
  // any: the page's JSON, read by tests field by field as the page reads it.
  const state = Effect.promise((): Promise<any> => fetch(`${url}/api/state`).then((r) => r.json(), () => undefined))

  /** Opens the event stream; its events collect in `received` until the scope closes. */
  const events = Effect.gen(function* () {
    const received: Array<PageEvent> = []
    const abort = new AbortController()
    yield* Effect.addFinalizer(() => Effect.sync(() => abort.abort()))
    const response = yield* Effect.promise(() => fetch(`${url}/api/events`, { signal: abort.signal }))
    const reader = response.body?.getReader()
    if (reader === undefined) return yield* Effect.die("no event stream")
    const decoder = new TextDecoder()
    let buffer = ""
    const pump = async () => {
      for (;;) {
        const chunk = await reader.read()
        if (chunk.done) return
        buffer += decoder.decode(chunk.value, { stream: true })
        let end = buffer.indexOf("\n\n")
        while (end >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const lines = frame.split("\n")
          const event = lines.find((line) => line.startsWith("event: "))?.slice(7)
          const data = lines.find((line) => line.startsWith("data: "))?.slice(6)
          if (event !== undefined && data !== undefined) received.push({ event, data: JSON.parse(data) })
          end = buffer.indexOf("\n\n")
        }
      }
    }
    pump().catch(() => undefined)

    /** Waits (real time, 20 s at most) for the first event after `from` that `matches`, and returns it. */
    const next = (matches: (event: PageEvent) => boolean, from = 0) =>
      Effect.gen(function* () {
        for (let waited = 0; waited < 20_000; waited += 20) {
          const found = received.slice(from).find(matches)
          if (found !== undefined) return found
          yield* Effect.sleep("20 millis")
        }
        const seen = received.slice(from).map((e) => (e.event === "change" ? [e.data.kind, e.data.chatId, e.data.message?.text ?? e.data.text] : e.event))
        return yield* Effect.die(`no matching event; got ${JSON.stringify(seen)}`)
      })
    return { received, next }
  })

  return { url, post, state, events }
}

/** A `change` that puts a message in `chatId` whose text (or caption) satisfies `text`. */
export const messageIn = (chatId: number, text: (t: string) => boolean) => (event: PageEvent) =>
  event.event === "change" &&
  event.data.kind === "message" &&
  event.data.chatId === chatId &&
  text(String((event.data.message as Message).text ?? (event.data.message as Message).caption ?? ""))

/** The callback data of the button labelled `label` (a prefix) on `message`. */
export const button = (message: Message, label: string): string => {
  for (const row of message.reply_markup?.inline_keyboard ?? []) {
    for (const key of row) if (key.text.startsWith(label) && "callback_data" in key && key.callback_data !== undefined) return key.callback_data
  }
  throw new Error(`no button "${label}" on message ${message.message_id}: ${JSON.stringify(message.reply_markup)}`)
}
