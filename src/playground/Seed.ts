// Demo content for a fresh playground, made the way people make it: the demo authors confess through the bot, the
// demo admin approves, others comment and like. Only the emulator is touched (what a person sends and sees), so the
// content is whatever the real features produce. Each step waits for the bot's visible answer; a step the bot does
// not answer in time ends the seeding with a warning, and the playground works on without it.
import { Data, Effect, Option } from "effect"
import type { Message } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"
import type { BotApiEmulator } from "../emulator/BotApiEmulator.ts"
import type { Person } from "../emulator/Updates.ts"
import * as Demo from "./Demo.ts"

export class SeedError extends Data.TaggedError("SeedError")<{ readonly step: string }> {}

type Emulator = BotApiEmulator["Service"]

/** Seeds `Demo.seed`; returns how many confessions reached the channel. */
export const run = (emulator: Emulator, options: { readonly stepTimeout?: number } = {}) =>
  Effect.gen(function* () {
    const stepTimeout = options.stepTimeout ?? 30_000
    const channel = emulator.chat(Demo.channel).chatId

    /** Waits (real time) until `find` sees what it looks for in the chats. */
    const waitFor = <A>(step: string, find: () => A | undefined) =>
      Effect.gen(function* () {
        let found: A | undefined
        yield* emulator.waitUntil(() => (found = find()) !== undefined).pipe(
          Effect.timeoutOrElse({ duration: stepTimeout, orElse: () => Effect.fail(new SeedError({ step })) })
        )
        return found as A
      })

    const botMessages = (chatId: number): ReadonlyArray<Message> =>
      emulator.chat(chatId).messages.filter((m) => m.from?.is_bot === true || m.sender_chat !== undefined)

    /** The newest message in the chat with a button whose data `matches`, with that data. */
    const withButton = (chatId: number, matches: (data: CallbackData.CallbackData) => boolean) => {
      for (const message of [...botMessages(chatId)].reverse()) {
        for (const row of message.reply_markup?.inline_keyboard ?? []) {
          for (const key of row) {
            if (!("callback_data" in key) || key.callback_data === undefined) continue
            const data = CallbackData.fromString(key.callback_data)
            if (Option.isSome(data) && matches(data.value)) return { message, data: data.value, raw: key.callback_data }
          }
        }
      }
      return undefined
    }

    /** Sends `text` and waits for a bot message in the sender's chat newer than the text. */
    const say = (who: Person, text: string) =>
      Effect.gen(function* () {
        const update = yield* emulator.send(who, text)
        const sentId = update.message?.message_id ?? 0
        return yield* waitFor(`"${text}" answered`, () => botMessages(who.id).find((m) => m.message_id > sentId))
      })

    const press = (who: Person, chatId: number, messageId: number, data: string) =>
      Effect.orDie(emulator.press(who, chatId, messageId, data))

    const confess = (entry: Demo.SeedConfession) =>
      Effect.gen(function* () {
        const known = new Set(approvals())
        yield* say(entry.author, "/confess")
        yield* emulator.send(entry.author, entry.text)
        const preview = yield* waitFor("preview", () => withButton(entry.author.id, CallbackData.$is("PreviewSubmit")))
        if (entry.named === true) {
          const toggle = withButton(entry.author.id, CallbackData.$is("PreviewToggleAnonymous"))
          if (toggle !== undefined) {
            const before = toggle.message.edit_date
            yield* press(entry.author, entry.author.id, toggle.message.message_id, toggle.raw)
            yield* waitFor("anonymity toggled", () => {
              const now = emulator.chat(entry.author.id).messages.find((m) => m.message_id === toggle.message.message_id)
              return now !== undefined && now.edit_date !== before ? now : undefined
            })
          }
        }
        yield* press(entry.author, entry.author.id, preview.message.message_id, preview.raw)
        const approve = yield* waitFor("admin notified", () =>
          withButton(Demo.dana.id, (data) => data._tag === "Approve" && !known.has(data.confessionId))
        )
        const id = approve.data._tag === "Approve" ? approve.data.confessionId : 0
        yield* press(Demo.dana, Demo.dana.id, approve.message.message_id, approve.raw)
        yield* waitFor("posted to the channel", () =>
          botMessages(channel).find((m) =>
            (m.reply_markup?.inline_keyboard ?? []).some((row) => row.some((key) => "url" in key && key.url?.endsWith(`start=c${id}`)))
          )
        )
        return id
      })

    const approvals = () =>
      botMessages(Demo.dana.id).flatMap((m) =>
        (m.reply_markup?.inline_keyboard ?? []).flatMap((row) =>
          row.flatMap((key) => {
            const data = "callback_data" in key && key.callback_data !== undefined ? CallbackData.fromString(key.callback_data) : Option.none()
            return Option.isSome(data) && data.value._tag === "Approve" ? [data.value.confessionId] : []
          })
        )
      )

    const comment = (confessionId: number, entry: Demo.SeedConfession["comments"][number]) =>
      Effect.gen(function* () {
        yield* say(entry.by, `/comment ${confessionId}`)
        yield* say(entry.by, entry.text)
        for (const fan of entry.likedBy ?? []) {
          const view = yield* say(fan, `/comments ${confessionId}`)
          // The newest comment is listed first: the one just written.
          const like = withButton(fan.id, (data) => data._tag === "Like")
          if (like === undefined || like.message.message_id !== view.message_id) continue
          const before = JSON.stringify(like.message.reply_markup)
          yield* press(fan, fan.id, like.message.message_id, like.raw)
          yield* waitFor("like counted", () => {
            const now = emulator.chat(fan.id).messages.find((m) => m.message_id === like.message.message_id)
            return now !== undefined && JSON.stringify(now.reply_markup) !== before ? now : undefined
          })
        }
      })

    let posted = 0
    for (const entry of Demo.seed) {
      const id = yield* confess(entry)
      posted++
      for (const reply of entry.comments) yield* comment(id, reply)
    }
    return posted
  }).pipe(
    Effect.tap((posted) => Effect.logInfo(`playground: ${posted} demo confessions with comments are in the channel`)),
    Effect.catchTag("SeedError", (error) =>
      Effect.logWarning(`playground: demo content stopped at "${error.step}" (the bot did not answer in time)`).pipe(Effect.as(0))
    ),
    Effect.withSpan("Playground.seed")
  )
