// Issue 16 end to end: photo and voice confessions through preview, approval and the channel (re-sent by file_id,
// never forwarded), documents and other kinds refused, and the privacy check before anything is submitted.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, type Scope } from "effect"
import type { Update } from "grammy/types"
import { type ApiCall, BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { callback, message, type Person, person, text } from "../../src/emulator/Updates.ts"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { ConfessionId } from "../../src/domain/Ids.ts"
import * as Admin from "../../src/features/Admin.ts"
import * as CommentsFeature from "../../src/features/Comments.ts"
import * as Confess from "../../src/features/Confess.ts"
import * as Fallback from "../../src/features/Fallback.ts"
import * as Moderate from "../../src/features/Moderate.ts"
import * as Profile from "../../src/features/Profile.ts"
import { Courier } from "../../src/services/Courier.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const features = Layer.mergeAll(Confess.layer, Moderate.layer, Admin.layer, Profile.layer, CommentsFeature.layer, Fallback.layer)

const channel = -1001234567890
const bea = person(TestApp.admins.bea, "Bea")
const cal = person(TestApp.admins.cal, "Cal")

let nextPerson = 560_000
const newPerson = (name: string) => person(++nextPerson, name)

const data = (action: CallbackData.CallbackData) => CallbackData.toString(action)

const launch = (env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const app = yield* Layer.build(
      TestApp.layer({
        features,
        env: { CONFESSION_COOLDOWN: "0 seconds", CONFESSIONS_PER_HOUR: "1000", VOICE_MAX_DURATION: "1 minute", ...env },
        database: TestDatabase.layer()
      })
    )
    const dispatcher = Context.get(app, Dispatcher)
    const courier = Context.get(app, Courier)
    const send = (...updates: ReadonlyArray<Update>) =>
      Effect.gen(function* () {
        fake.push(...updates)
        const last = Math.max(...updates.map((u) => u.update_id))
        yield* fake.waitUntil(() => fake.confirmedOffset() > last)
        yield* dispatcher.awaitIdle
        yield* courier.settle
      })
    const to = (method: string, chatId: number | string): ReadonlyArray<ApiCall> =>
      fake.callsTo(method).filter((call) => String(call.body.chat_id) === String(chatId))
    const lastText = (chatId: number) => String(to("sendMessage", chatId).at(-1)?.body.text ?? "")
    /** The callback data of every button of a recorded call's keyboard. */
    const buttons = (call: ApiCall | undefined): ReadonlyArray<string> => {
      const markup = call?.body.reply_markup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined
      return (markup?.inline_keyboard ?? []).flat().flatMap((key) => (key.callback_data === undefined ? [] : [key.callback_data]))
    }
    const press = (who: Person, action: CallbackData.CallbackData, messageId = 1) => send(callback(who, data(action), messageId))
    return { fake, send, to, lastText, buttons, press }
  })

const live = <A, E>(name: string, body: () => Effect.Effect<A, E, BotApiEmulator | Scope.Scope>) =>
  it.live(name, () => body().pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

describe("Media and privacy end to end", () => {
  live("photo - preview, admins' copies and the channel post are the same photo by file_id, with the caption", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const ann = newPerson("Ann")
      yield* bot.send(text(ann, "/confess"))
      const photoUpdate = message(ann, { kind: "photo", caption: "our <secret> garden" })
      const fileId = `photo-${ann.id}-${photoUpdate.update_id}`
      yield* bot.send(photoUpdate)
      const preview = bot.to("sendPhoto", ann.id).at(-1)
      assert.strictEqual(preview?.body.photo, fileId, "the largest size, re-sent by file_id")
      assert.include(String(preview?.body.caption), "our &lt;secret&gt; garden")
      assert.deepStrictEqual(bot.buttons(preview), [
        data(CallbackData.PreviewSubmit()),
        data(CallbackData.PreviewToggleAnonymous()),
        data(CallbackData.PreviewCancel())
      ])
      // The toggle edits the caption in place (a photo has no text to edit).
      yield* bot.press(ann, CallbackData.PreviewToggleAnonymous(), preview?.body.message_id as number | undefined)
      yield* bot.press(ann, CallbackData.PreviewToggleAnonymous())
      yield* bot.press(ann, CallbackData.PreviewSubmit())
      const submitted = bot.fake.calls.filter((call) => String(call.body.caption ?? call.body.text ?? "").includes("is waiting for review"))
      assert.isAbove(submitted.length, 0)
      const id = Number(/#(\d+)/.exec(String(submitted.at(-1)?.body.caption ?? submitted.at(-1)?.body.text))?.[1])

      for (const admin of [bea, cal]) {
        const copy = bot.to("sendPhoto", admin.id).at(-1)
        assert.strictEqual(copy?.body.photo, fileId)
        assert.include(String(copy?.body.caption), `Confession #${id}`)
        assert.deepStrictEqual(bot.buttons(copy), [
          data(CallbackData.Approve({ confessionId: ConfessionId.make(id) })),
          data(CallbackData.Reject({ confessionId: ConfessionId.make(id) }))
        ])
      }
      yield* bot.press(bea, CallbackData.Approve({ confessionId: ConfessionId.make(id) }))
      const post = bot.to("sendPhoto", channel).at(-1)
      assert.strictEqual(post?.body.photo, fileId)
      assert.strictEqual(post?.body.caption, `<b>#${id}</b>\n\nour &lt;secret&gt; garden\n\n— Anonymous`)
      // Every admin's copy is a photo: its caption becomes the outcome.
      for (const admin of [bea, cal]) {
        const closed = bot.to("editMessageCaption", admin.id).at(-1)
        assert.isTrue(String(closed?.body.caption).startsWith("✅ Approved by an admin"))
      }
      // Never forwarded (a forward names the sender).
      assert.strictEqual(bot.fake.callsTo("forwardMessage").length + bot.fake.callsTo("copyMessage").length, 0)
      // Lists name the media.
      yield* bot.send(text(ann, "/myconfessions"))
      assert.include(bot.lastText(ann.id), `📷 photo · our &lt;secret&gt; garden`)
    }))

  live("voice - within the limit it is posted as a voice note; too long, documents, stickers are refused, the flow stays", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const ben = newPerson("Ben")
      yield* bot.send(text(ben, "/confess"))
      yield* bot.send(message(ben, { kind: "voice", seconds: 61 }))
      assert.strictEqual(bot.lastText(ben.id), Messages.voiceTooLong(61, 60))
      yield* bot.send(message(ben, { kind: "document", fileName: "me.jpg" }))
      assert.strictEqual(bot.lastText(ben.id), Messages.sendAsPhoto)
      yield* bot.send(message(ben, { kind: "sticker" }))
      assert.strictEqual(bot.lastText(ben.id), Messages.textPhotoOrVoice)
      const voiceUpdate = message(ben, { kind: "voice", seconds: 42 })
      yield* bot.send(voiceUpdate)
      const preview = bot.to("sendVoice", ben.id).at(-1)
      assert.strictEqual(preview?.body.voice, `voice-${ben.id}-${voiceUpdate.update_id}`)
      yield* bot.press(ben, CallbackData.PreviewSubmit())
      yield* bot.send(text(bea, "/pending"))
      assert.include(bot.lastText(bea.id), "🎤 voice (0:42)")
    }))

  live("privacy - a phone number is flagged with ✏️ Edit; the edit replaces the draft; submitted anyway, admins see the kind", () =>
    Effect.gen(function* () {
      const bot = yield* launch({ PRIVACY_PATTERNS: "student id=S[0-9]{7}" })
      const cy = newPerson("Cy")
      yield* bot.send(text(cy, "/confess"))
      yield* bot.send(text(cy, "call me at +1 (555) 123-4567, student S1234567"))
      const flagged = bot.to("sendMessage", cy.id).at(-1)
      assert.include(String(flagged?.body.text), Messages.privacyWarning("phone"))
      assert.include(String(flagged?.body.text), Messages.privacyWarning("student id"))
      assert.deepStrictEqual(bot.buttons(flagged).slice(0, 2), [data(CallbackData.PreviewEdit()), data(CallbackData.PreviewSubmit())])
      // ✏️ Edit: the next text replaces the draft; a confession number or a year is no privacy hit.
      yield* bot.press(cy, CallbackData.PreviewEdit())
      assert.strictEqual(bot.lastText(cy.id), Messages.editDraft)
      yield* bot.send(text(cy, "about confession #123 from 2024"))
      const clean = bot.to("sendMessage", cy.id).at(-1)
      assert.notInclude(String(clean?.body.text), "⚠️")
      assert.deepStrictEqual(bot.buttons(clean).slice(0, 1), [data(CallbackData.PreviewSubmit())])
      // Back to a text with an e-mail, submitted anyway: the admins' copy names the kind, not where it is.
      yield* bot.send(text(cy, "write to cy@example.org"))
      yield* bot.press(cy, CallbackData.PreviewSubmit())
      const copy = bot.to("sendMessage", bea.id).at(-1)
      assert.include(String(copy?.body.text), "⚠️ Privacy check: e-mail address")
    }))

  live("privacy - a comment with a phone number waits for ✏️ Edit or ✅ Post anyway; the edit is checked again", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const dee = newPerson("Dee")
      const eli = newPerson("Eli")
      yield* bot.send(text(dee, "/confess"))
      yield* bot.send(text(dee, "I sing in the shower"))
      yield* bot.press(dee, CallbackData.PreviewSubmit())
      const id = Number(/#(\d+)/.exec(String(bot.fake.callsTo("editMessageText").at(-1)?.body.text))?.[1])
      yield* bot.press(bea, CallbackData.Approve({ confessionId: ConfessionId.make(id) }))

      yield* bot.send(text(eli, `/comment ${id}`))
      yield* bot.send(text(eli, "same! text me at +44 20 7946 0958"))
      const flagged = bot.to("sendMessage", eli.id).at(-1)
      assert.include(String(flagged?.body.text), Messages.privacyWarning("phone"))
      assert.deepStrictEqual(bot.buttons(flagged), [data(CallbackData.CommentEdit()), data(CallbackData.CommentPost())])
      const posted = () => bot.fake.callsTo("sendMessage").filter((call) => String(call.body.text).includes("Your comment on confession"))
      assert.strictEqual(posted().length, 0, "nothing is posted before the choice")

      yield* bot.press(eli, CallbackData.CommentEdit())
      assert.strictEqual(bot.lastText(eli.id), Messages.editComment)
      yield* bot.send(text(eli, "call me maybe: eli.singer@example.org"))
      assert.include(bot.lastText(eli.id), Messages.privacyWarning("email"), "the edit is checked again")
      yield* bot.press(eli, CallbackData.CommentPost())
      assert.strictEqual(posted().length, 1)
      assert.include(bot.lastText(dee.id), "Someone commented on your confession")
      // A second press finds nothing waiting.
      yield* bot.press(eli, CallbackData.CommentPost())
      const answers = bot.fake.callsTo("answerCallbackQuery").map((call) => call.body.text)
      assert.strictEqual(answers.at(-1), Messages.commentPreviewExpired)
      assert.strictEqual(posted().length, 1)
    }))
})
