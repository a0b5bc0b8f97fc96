// A scripted session against the whole app (every feature of App.features) over the Bot API emulator, for end-to-end
// tests that act as many people. Each step pushes its updates as one getUpdates batch, waits until the dispatcher has
// handled them and the outbox has delivered what they caused, and returns the Bot API calls made meanwhile, so a
// script reads like a conversation and never races the bot.
import type { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import type { InlineKeyboardMarkup, Update } from "grammy/types"
import * as App from "../../src/App.ts"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { type CommentId, ConfessionId } from "../../src/domain/Ids.ts"
import { type ApiCall, BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { callback, type Person, text } from "../../src/emulator/Updates.ts"
import { Courier } from "../../src/services/Courier.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import * as TestApp from "./TestApp.ts"
import * as TestDatabase from "./TestDatabase.ts"

export const channel = -1001234567890

/** Several confessions and comments per person in one test must not meet the anti-spam limits unless a test asks. */
export const generousLimits: Record<string, string> = {
  CONFESSION_COOLDOWN: "0 seconds",
  CONFESSIONS_PER_HOUR: "1000",
  COMMENTS_PER_HOUR: "1000",
  REPORTS_PER_HOUR: "1000",
  FEEDBACK_PER_HOUR: "1000"
}

/** A call's text: `text`, or `caption` for media. */
export const textOf = (call: ApiCall): string => String(call.body.text ?? call.body.caption ?? "")

/** The calls addressed to a chat (answerCallbackQuery counts for the presser's chat). */
export const to = (calls: ReadonlyArray<ApiCall>, chatId: number): ReadonlyArray<ApiCall> =>
  calls.filter((call) => call.chatId === chatId || call.chatId === String(chatId))

/** Every callback action on a keyboard, decoded. */
export const actionsOf = (keyboard: unknown): Array<CallbackData.CallbackData> =>
  ((keyboard as InlineKeyboardMarkup | undefined)?.inline_keyboard ?? [])
    .flat()
    .flatMap((key) => ("callback_data" in key ? Option.toArray(CallbackData.fromString(key.callback_data)) : []))

/** The comment ids a comments (or replies) view shows, in order, read from its 👍 buttons. */
export const commentIdsOn = (keyboard: unknown): Array<CommentId> =>
  actionsOf(keyboard).flatMap((action) => (action._tag === "Like" ? [action.commentId] : []))

export type Session = Effect.Success<ReturnType<typeof launch>>

/** The whole app on a fresh database (or `database`), reading `env` over TestApp's and `generousLimits`. */
export const launch = (
  options: {
    readonly env?: Record<string, string>
    readonly database?: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown>
  } = {}
) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const app = yield* Layer.build(
      TestApp.layer({
        features: App.features,
        env: { ...generousLimits, ...options.env },
        database: options.database ?? TestDatabase.layer()
      })
    )
    const dispatcher = Context.get(app, Dispatcher)
    const courier = Context.get(app, Courier)
    const sql = Context.get(app, SqlClient.SqlClient)

    /** Pushes `updates` as one batch; returns every call made until they are handled and their outbox delivered. */
    const step = (...updates: ReadonlyArray<Update>) =>
      Effect.gen(function* () {
        const mark = fake.calls.length
        fake.push(...updates)
        const last = Math.max(...updates.map((u) => u.update_id))
        // Confirmed means stored and accepted (the poller offers a batch before asking for the next); idle then
        // means handled; settled means the outbox delivered what they caused.
        yield* fake.waitUntil(() => fake.confirmedOffset() > last)
        yield* dispatcher.awaitIdle
        yield* TestApp.settled(courier, sql)
        return fake.calls.slice(mark)
      })

    const say = (who: Person, body: string) => step(text(who, body))

    /** `who` presses a button with `data` (forged or not) on message `messageId` of their chat. */
    const press = (who: Person, data: CallbackData.CallbackData | string, messageId = 1) =>
      step(callback(who, typeof data === "string" ? data : CallbackData.toString(data), messageId))

    /** The toast (or alert) a press got. */
    const toastOf = (calls: ReadonlyArray<ApiCall>, who: Person): string | undefined => {
      const answer = to(calls, who.id).find((call) => call.method === "answerCallbackQuery")
      return answer?.body.text === undefined ? undefined : String(answer.body.text)
    }

    /** The texts a chat was sent or shown (edits included) by these calls. */
    const textsTo = (calls: ReadonlyArray<ApiCall>, who: Person | number): Array<string> =>
      to(calls, typeof who === "number" ? who : who.id)
        .filter((call) => call.method !== "answerCallbackQuery")
        .map(textOf)

    /** /confess, the text, (🎭 off when `named`), ✅ Submit: the new confession's id. */
    const confess = (who: Person, body: string, options: { readonly named?: boolean } = {}) =>
      Effect.gen(function* () {
        yield* say(who, "/confess")
        yield* say(who, body)
        if (options.named === true) yield* press(who, CallbackData.PreviewToggleAnonymous(), 500)
        const submitted = textsTo(yield* press(who, CallbackData.PreviewSubmit(), 500), who).join("\n")
        const id = Number(/Confession #(\d+) is waiting for review/.exec(submitted)?.[1])
        if (!Number.isSafeInteger(id)) return yield* Effect.die(`no confirmation for ${who.first_name}: ${submitted}`)
        return ConfessionId.make(id)
      })

    /** `who` comments `body` on confession `id` through /comment; returns the calls of the text step. */
    const comment = (who: Person, id: ConfessionId, body: string) =>
      Effect.gen(function* () {
        yield* say(who, `/comment ${id}`)
        return yield* say(who, body)
      })

    /** `who` replies `body` under comment `parent` through its 💬 button. */
    const reply = (who: Person, parent: CommentId, body: string) =>
      Effect.gen(function* () {
        yield* press(who, CallbackData.Reply({ commentId: parent }))
        return yield* say(who, body)
      })

    /** The comment ids of the first page of confession `id`'s comments, newest first, as `who` sees them. */
    const commentIds = (who: Person, id: ConfessionId) =>
      Effect.map(say(who, `/comments ${id}`), (calls) => {
        const view = to(calls, who.id).find((call) => call.method === "sendMessage")
        return commentIdsOn(view?.body.reply_markup)
      })

    return { fake, app, sql, step, say, press, toastOf, textsTo, confess, comment, reply, commentIds }
  })

/** Runs a session test with its own emulator, which outlives the app (so the app's last long poll ends cleanly). */
export const withEmulator = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(Effect.scoped(effect), BotApiEmulator.layer())
