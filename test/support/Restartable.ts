// The whole app on a database that outlives it: started, killed (its scope closed with SHUTDOWN_GRACE=0, so nothing in
// flight gets time to finish) and started again on the same data, against one Bot API emulator, with a ledger of what
// people actually received (the emulator's events fire only for calls it carried out, never for refused ones). For
// the outbox's crash tests: what the committed state implies must reach everyone, once.
import type { PgClient } from "@effect/sql-pg"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import { SqlClient } from "effect/sql"
import type { Message, Update } from "grammy/types"
import * as App from "../../src/App.ts"
import { Courier } from "../../src/services/Courier.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import { type ApiCall, BotApiEmulator, type ChatEvent } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "./TestApp.ts"
import * as TestDatabase from "./TestDatabase.ts"

export const channel = -1001234567890

/** What reached people: only calls the emulator carried out. */
export interface Ledger {
  readonly events: ReadonlyArray<ChatEvent>
  /** Messages the bot sent to `chatId` whose text contains `includes`. */
  readonly sent: (chatId: number, includes?: string) => ReadonlyArray<Message>
  /** Edits the bot made in `chatId` that left a text containing `includes`. */
  readonly edited: (chatId: number, includes?: string) => ReadonlyArray<Message>
  /** The answers (toast texts, `undefined` for none) given to one button press. */
  readonly answered: (update: Update) => ReadonlyArray<string | undefined>
  /** Every text the bot showed anyone (sent, edited, toasts). */
  readonly texts: () => ReadonlyArray<string>
}

export interface Running {
  readonly app: Context.Context<SqlClient.SqlClient | Dispatcher | Courier>
  readonly dispatcher: Dispatcher["Service"]
  readonly courier: Courier["Service"]
  /** The port of its HTTP server (health, metrics, webhook). */
  readonly port: number
  /** Closes the app's scope: SHUTDOWN_GRACE is 0, so running updates are interrupted at once. */
  readonly kill: Effect.Effect<void>
}

const textOf = (message: Message): string => ("text" in message && message.text !== undefined ? message.text : message.caption ?? "")

/**
 * A database for the test's lifetime, a ledger on the emulator, and `start` for apps on that database; every app is
 * closed with the test at the latest.
 */
export const make = (env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const testScope = yield* Scope.Scope
    const db = yield* Layer.build(TestDatabase.layer())
    const sql = Context.get(db, SqlClient.SqlClient)

    const events: Array<ChatEvent> = []
    const unlisten = fake.listen((event) => {
      if (event._tag !== "UpdatesDelivered") events.push(event)
    })
    yield* Effect.addFinalizer(() => Effect.sync(unlisten))

    const ledger: Ledger = {
      events,
      sent: (chatId, includes = "") =>
        events.flatMap((event) =>
          event._tag === "MessageSent" && event.chatId === chatId && textOf(event.message).includes(includes) ? [event.message] : []
        ),
      edited: (chatId, includes = "") =>
        events.flatMap((event) =>
          event._tag === "MessageEdited" && event.chatId === chatId && textOf(event.message).includes(includes)
            ? [event.message]
            : []
        ),
      answered: (update) =>
        events.flatMap((event) =>
          event._tag === "CallbackAnswered" && event.callbackQueryId === update.callback_query?.id ? [event.text] : []
        ),
      texts: () =>
        events.flatMap((event) =>
          event._tag === "MessageSent" || event._tag === "MessageEdited"
            ? [textOf(event.message)]
            : event._tag === "CallbackAnswered" && event.text !== undefined
              ? [event.text]
              : []
        )
    }

    /** A new app on the test's database (as a new process would start after a crash). */
    const start = (more: Record<string, string> = {}, emulator?: Context.Context<BotApiEmulator>) =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(testScope)
        const layer = TestApp.layer({
          features: App.features,
          env: {
            SHUTDOWN_GRACE: "0 seconds",
            CONFESSION_COOLDOWN: "0 seconds",
            CONFESSIONS_PER_HOUR: "1000",
            ...env,
            ...more
          },
          database: Layer.succeedContext(db as Context.Context<SqlClient.SqlClient | PgClient.PgClient>)
        })
        const app = yield* Layer.buildWithScope(
          emulator === undefined ? layer : layer.pipe(Layer.provide(Layer.succeedContext(emulator))),
          scope
        )
        return {
          app,
          dispatcher: Context.get(app, Dispatcher),
          courier: Context.get(app, Courier),
          port: (Context.get(app, HttpServer.HttpServer).address as { readonly port: number }).port,
          kill: Scope.close(scope, Exit.void)
        } satisfies Running
      })

    /** Pushes `update` and waits until the app has handled it and delivered what fell due. */
    const handled = (running: Running, update: Update) =>
      Effect.gen(function* () {
        yield* fake.waitUntil(() => fake.confirmedOffset() > update.update_id)
        yield* running.dispatcher.awaitIdle
        yield* running.courier.settle
      }).pipe(within(`update ${update.update_id} handled`))

    /** Waits (real time) until a call after `mark` satisfies `predicate`. */
    const attempted = (mark: number, predicate: (call: ApiCall) => boolean, what: string) =>
      fake.waitUntil(() => fake.calls.slice(mark).some(predicate)).pipe(within(what))

    /** Re-checks `condition` until it holds (real time): rows in back-off fall due a few seconds later. */
    const eventually = (condition: Effect.Effect<boolean, unknown>, what: string) =>
      Effect.gen(function* () {
        while (!(yield* condition)) yield* Effect.sleep("50 millis")
      }).pipe(within(what))

    /** Rows the outbox still has to deliver (or is delivering). */
    const unfinished = Effect.map(
      sql<{ n: number }>`select count(*)::int as n from outbox where status = 'pending'`,
      (rows) => rows[0]?.n ?? -1
    )

    return { fake, sql, db, ledger, start, handled, attempted, eventually, unfinished }
  })

export type World = Effect.Success<ReturnType<typeof make>>

/** Fails (instead of hanging the test until its timeout) when `what` takes longer than 30 seconds. */
const within =
  (what: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.timeoutOrElse({
        duration: "30 seconds",
        orElse: () => Effect.die(new Error(`timed out waiting: ${what}`))
      })
    )

/** The bot's last message in `chatId` that has a button labelled `label` and contains `includes`. */
export const messageWithButton = (fake: BotApiEmulator["Service"], chatId: number, label: string, includes = "") => {
  const found = fake
    .chat(chatId)
    .messages.findLast(
      (message) =>
        textOf(message).includes(includes) &&
        (message.reply_markup?.inline_keyboard ?? []).some((row) => row.some((key) => key.text === label))
    )
  if (found === undefined) throw new Error(`no message with "${label}" in chat ${chatId}`)
  return found
}
