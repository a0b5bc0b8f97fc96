// The emulator through real HTTP, mostly with grammY's own client: Telegram's update semantics (offsets, long
// polling, allowed updates, webhooks and their redelivery), Telegram's answers where bots notice them, every kind
// of fault, the simulated people and the change feed.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, type Scope, Stream } from "effect"
import { Api, GrammyError, HttpError, InputFile } from "grammy"
import type { Update } from "grammy/types"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import {
  type ApiCall,
  BotApiEmulator,
  botInfo,
  type ChatEvent,
  type EmulatorOptions,
  Faults,
  token
} from "../../src/emulator/BotApiEmulator.ts"
import { callback, lastUpdateId, person, photo, text } from "../../src/emulator/Updates.ts"

const ann = person(41_001, "Ann", "ann_a")
const ben = person(41_002, "Ben")
const channel = -1001234567890

/** A fresh emulator for one test, and grammY's client pointed at it. */
const live = <A, E>(
  name: string,
  body: (fake: BotApiEmulator["Service"], api: Api) => Effect.Effect<A, E, Scope.Scope>,
  options: EmulatorOptions = {}
) =>
  it.live(name, () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      return yield* body(fake, new Api(fake.token, { apiRoot: fake.apiRoot }))
    }).pipe(Effect.provide(BotApiEmulator.layer(options)))
  )

/** The promise's failure as a value (GrammyError or HttpError). */
const failure = (run: () => Promise<unknown>) =>
  Effect.flip(Effect.tryPromise({ try: run, catch: (error) => error }))

const apiError = (run: () => Promise<unknown>) =>
  Effect.map(failure(run), (error) => {
    assert.instanceOf(error, GrammyError)
    const grammy = error as GrammyError
    return { code: grammy.error_code, description: grammy.description, retryAfter: grammy.parameters.retry_after }
  })

const call = <A>(run: () => Promise<A>) => Effect.promise(run)

const updateIds = (updates: ReadonlyArray<Update>) => updates.map((u) => u.update_id)

describe("BotApiEmulator", () => {
  describe("transport", () => {
    live("getMe, a wrong token and an unknown method answer like Telegram", (fake, api) =>
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* call(() => api.getMe()), botInfo)
        const wrong = yield* apiError(() => new Api("1:WRONG", { apiRoot: fake.apiRoot }).getMe())
        assert.deepStrictEqual([wrong.code, wrong.description], [401, "Unauthorized"])
        const response = yield* call(() =>
          fetch(`${fake.apiRoot}/bot${token}/sendCarrierPigeon`, { method: "POST" }).then(async (r) => [r.status, await r.text()])
        )
        assert.deepStrictEqual(response, [404, `{"ok":false,"error_code":404,"description":"Not Found"}`])
        // Method names are case-insensitive on Telegram.
        const lower = yield* call(() => fetch(`${fake.apiRoot}/bot${token}/getme`).then((r) => r.json()))
        assert.deepStrictEqual(lower, { ok: true, result: botInfo })
      }))

    live("getUpdates - an offset confirms every update below it for good; limit; ids below the offset never come back", (fake, api) =>
      Effect.gen(function* () {
        const [a, b, c] = [text(ann, "a"), text(ann, "b"), text(ben, "c")]
        fake.push(c, a, b)
        assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({ limit: 2 }))), updateIds([a, b]))
        assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({}))), updateIds([a, b, c]), "unconfirmed come back")
        const next = yield* call(() => api.getUpdates({ offset: b.update_id }))
        assert.deepStrictEqual(updateIds(next), updateIds([b, c]))
        assert.strictEqual(fake.confirmedOffset(), b.update_id)
        assert.strictEqual(fake.pendingUpdates(), 2)
        fake.push(a)
        assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({ offset: b.update_id }))), updateIds([b, c]))
        assert.deepStrictEqual(yield* call(() => api.getUpdates({ offset: c.update_id + 1 })), [])
        assert.strictEqual(fake.pendingUpdates(), 0)
        // A negative offset keeps only the newest updates.
        const [d, e, f] = [text(ann, "d"), text(ann, "e"), text(ann, "f")]
        fake.push(d, e, f)
        assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({ offset: -1 }))), updateIds([f]))
        assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({}))), updateIds([f]))
      }))

    live("getUpdates - a long poll is answered as soon as an update arrives; a second poll ends the first with 409", (fake, api) =>
      Effect.gen(function* () {
        const waiting = yield* Effect.forkChild(call(() => api.getUpdates({ timeout: 30 })))
        yield* fake.waitUntil(() => fake.callsTo("getUpdates").length === 1)
        const update = text(ann, "wake up")
        fake.push(update)
        assert.deepStrictEqual(updateIds(yield* Fiber.join(waiting)), [update.update_id])

        const first = yield* Effect.forkChild(failure(() => api.getUpdates({ offset: update.update_id + 1, timeout: 30 })))
        yield* fake.waitUntil(() => fake.callsTo("getUpdates").length === 2)
        const second = yield* Effect.forkChild(call(() => api.getUpdates({ offset: update.update_id + 1, timeout: 30 })))
        const conflict = yield* Fiber.join(first)
        assert.instanceOf(conflict, GrammyError)
        assert.strictEqual((conflict as GrammyError).error_code, 409)
        assert.include((conflict as GrammyError).description, "terminated by other getUpdates request")
        const later = text(ben, "later")
        fake.push(later)
        assert.deepStrictEqual(updateIds(yield* Fiber.join(second)), [later.update_id])
      }))

    live(
      "getUpdates - the timeout is capped by longPollCap; allowed_updates filters by type and is remembered",
      (fake, api) =>
        Effect.gen(function* () {
          assert.deepStrictEqual(yield* call(() => api.getUpdates({ timeout: 50 })), [])
          const message = text(ann, "m")
          const press = callback(ann, "1:n")
          fake.push(message, press)
          const onlyMessages = yield* call(() => api.getUpdates({ allowed_updates: ["message"] }))
          assert.deepStrictEqual(updateIds(onlyMessages), [message.update_id])
          assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({}))), [message.update_id], "remembered")
          const all = yield* call(() => api.getUpdates({ allowed_updates: [] }))
          assert.deepStrictEqual(updateIds(all), [message.update_id], "a filtered update was never stored")
        }),
      { longPollCap: "20 millis" }
    )

    live("webhook - delivery with the secret header, redelivery until 2xx, getUpdates refused meanwhile, deleteWebhook", (fake, api) =>
      Effect.gen(function* () {
        const received: Array<{ readonly secret: string | undefined; readonly body: string }> = []
        let failuresLeft = 2
        const server = yield* Effect.acquireRelease(
          Effect.callback<ReturnType<typeof createServer>>((resume) => {
            const srv = createServer((req: IncomingMessage, res) => {
              const chunks: Array<Buffer> = []
              req.on("data", (chunk: Buffer) => chunks.push(chunk))
              req.on("end", () => {
                const secret = req.headers["x-telegram-bot-api-secret-token"]
                received.push({ secret: typeof secret === "string" ? secret : undefined, body: Buffer.concat(chunks).toString() })
                res.writeHead(failuresLeft-- > 0 ? 500 : 200).end()
              })
            })
            srv.listen(0, "127.0.0.1", () => {
              resume(Effect.succeed(srv))
            })
          }),
          (srv) =>
            Effect.callback<void>((resume) => {
              srv.close(() => resume(Effect.void))
            })
        )
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
        assert.isTrue(yield* call(() => api.setWebhook(url, { secret_token: "s3cret_token" })))
        const conflict = yield* apiError(() => api.getUpdates({}))
        assert.strictEqual(conflict.code, 409)
        const update = text(ann, "via webhook")
        fake.push(update)
        yield* fake.waitUntil(() => received.length === 3 && fake.pendingUpdates() === 0)
        assert.deepStrictEqual(received.map((r) => r.secret), ["s3cret_token", "s3cret_token", "s3cret_token"])
        assert.deepStrictEqual(JSON.parse(received[2]?.body ?? "{}"), update)
        const info = yield* call(() => api.getWebhookInfo())
        assert.strictEqual(info.url, url)
        assert.strictEqual(info.pending_update_count, 0)
        assert.include(info.last_error_message ?? "", "500")
        assert.isTrue(yield* call(() => api.deleteWebhook()))
        const after = text(ann, "polling again")
        fake.push(after)
        assert.deepStrictEqual(updateIds(yield* call(() => api.getUpdates({}))), [after.update_id])
      }))
  })

  describe("messages", () => {
    live("message ids count per chat; the chat keeps text, entities and keyboard; an edit without reply_markup drops the keyboard", (fake, api) =>
      Effect.gen(function* () {
        const keyboard = { inline_keyboard: [[{ text: "👍", callback_data: "1:lk:1" }]] }
        const first = yield* call(() => api.sendMessage(ann.id, "<b>hi</b> &amp; welcome", { parse_mode: "HTML", reply_markup: keyboard }))
        const second = yield* call(() => api.sendMessage(ann.id, "again"))
        const elsewhere = yield* call(() => api.sendMessage(ben.id, "hello Ben"))
        const post = yield* call(() => api.sendMessage(channel, "a post"))
        assert.deepStrictEqual([first.message_id, second.message_id, elsewhere.message_id, post.message_id], [1, 2, 1, 1])
        assert.strictEqual(first.text, "hi & welcome")
        assert.deepStrictEqual(first.entities, [{ type: "bold", offset: 0, length: 2 }])
        assert.deepStrictEqual(first.reply_markup, keyboard)
        assert.strictEqual(post.chat.type, "channel")

        const edited = yield* call(() => api.editMessageText(ann.id, first.message_id, "<i>changed</i>", { parse_mode: "HTML" }))
        assert.isTrue(edited !== true && "text" in edited && edited.text === "changed")
        const shown = fake.chat(ann.id).messages
        assert.deepStrictEqual(shown.map((m) => m.message_id), [1, 2])
        assert.strictEqual(shown[0]?.text, "changed")
        assert.deepStrictEqual(shown[0]?.entities, [{ type: "italic", offset: 0, length: 7 }])
        assert.isUndefined(shown[0]?.reply_markup, "the keyboard the edit did not repeat is gone")

        const withKeys = yield* call(() => api.editMessageReplyMarkup(ann.id, second.message_id, { reply_markup: keyboard }))
        assert.isTrue(withKeys !== true && withKeys.text === "again")
        assert.deepStrictEqual(fake.chat(ann.id).messages[1]?.reply_markup, keyboard)
        assert.isTrue(yield* call(() => api.deleteMessage(ann.id, second.message_id)))
        assert.deepStrictEqual(fake.chat(ann.id).messages.map((m) => m.message_id), [1])
        // The reply keyboard a client shows is the chat's, not a message's.
        yield* call(() => api.sendMessage(ben.id, "menu", { reply_markup: { keyboard: [[{ text: "✍️ Confess" }]], resize_keyboard: true } }))
        assert.deepStrictEqual(fake.chat(ben.id).replyKeyboard?.keyboard, [[{ text: "✍️ Confess" }]])
      }))

    live("400s - missing messages, unchanged edits, too long, bad button data, bad HTML; 403 for people who cannot be written to", (fake, api) =>
      Effect.gen(function* () {
        const sent = yield* call(() => api.sendMessage(ann.id, "<b>same</b>", { parse_mode: "HTML" }))
        const expect = (run: () => Promise<unknown>, code: number, description: string) =>
          Effect.map(apiError(run), (error) => assert.deepStrictEqual([error.code, error.description], [code, description]))

        yield* expect(() => api.editMessageText(ann.id, 99, "x"), 400, "Bad Request: message to edit not found")
        yield* expect(() => api.editMessageReplyMarkup(ben.id, 1), 400, "Bad Request: message to edit not found")
        yield* expect(() => api.deleteMessage(ann.id, 99), 400, "Bad Request: message to delete not found")
        const unchanged = yield* apiError(() => api.editMessageText(ann.id, sent.message_id, "<strong>same</strong>", { parse_mode: "HTML" }))
        assert.isTrue(unchanged.description.startsWith("Bad Request: message is not modified: "))

        // 4,096 characters after entity parsing are fine; one more is not (the HTML source is longer either way).
        yield* call(() => api.sendMessage(ann.id, "&amp;".repeat(4096), { parse_mode: "HTML" }))
        yield* expect(() => api.sendMessage(ann.id, "&amp;".repeat(4097), { parse_mode: "HTML" }), 400, "Bad Request: message is too long")
        yield* expect(() => api.sendMessage(ann.id, "😀".repeat(2049)), 400, "Bad Request: message is too long")
        yield* expect(() => api.sendMessage(ann.id, "  "), 400, "Bad Request: message text is empty")
        yield* expect(
          () => api.sendMessage(ann.id, "buttons", { reply_markup: { inline_keyboard: [[{ text: "x", callback_data: "d".repeat(65) }]] } }),
          400,
          "Bad Request: BUTTON_DATA_INVALID"
        )
        yield* expect(
          () => api.sendMessage(ann.id, "a <br> b", { parse_mode: "HTML" }),
          400,
          `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 2`
        )
        yield* expect(
          () => api.sendMessage(ann.id, "<b>open", { parse_mode: "HTML" }),
          400,
          `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`
        )

        fake.setChatAccess(ben.id, "notStarted")
        yield* expect(() => api.sendMessage(ben.id, "hi"), 403, "Forbidden: bot can't initiate conversation with a user")
        fake.setChatAccess(ben.id, "blocked")
        yield* expect(() => api.sendMessage(ben.id, "hi"), 403, "Forbidden: bot was blocked by the user")
        fake.setChatAccess(ben.id, "open")
        yield* call(() => api.sendMessage(ben.id, "hi"))
      }))

    live(
      "requireStart - private chats that never wrote answer 403 until the person writes; channels are not people",
      (fake, api) =>
        Effect.gen(function* () {
          const refused = yield* apiError(() => api.sendMessage(ann.id, "hi"))
          assert.strictEqual(refused.code, 403)
          yield* fake.send(ann, "/start")
          yield* call(() => api.sendMessage(ann.id, "hi"))
          yield* call(() => api.sendMessage(channel, "post"))
        }),
      { requireStart: true }
    )

    live("uploads - multipart bodies are recorded with their fields and the file's name and size", (fake, api) =>
      Effect.gen(function* () {
        const bytes = new Uint8Array(1234).fill(7)
        const document = yield* call(() =>
          api.sendDocument(ann.id, new InputFile(bytes, "report.csv"), {
            caption: "<b>weekly</b>",
            parse_mode: "HTML",
            reply_markup: { inline_keyboard: [[{ text: "ok", callback_data: "ok" }]] }
          })
        )
        assert.strictEqual(document.document?.file_name, "report.csv")
        assert.strictEqual(document.caption, "weekly")
        const [recorded] = fake.callsTo("sendDocument")
        assert.strictEqual(recorded?.chatId, ann.id)
        assert.strictEqual(recorded?.body.chat_id, ann.id)
        assert.deepStrictEqual(recorded?.body.reply_markup, { inline_keyboard: [[{ text: "ok", callback_data: "ok" }]] })
        assert.deepStrictEqual(
          recorded?.files.map((f) => [f.field, f.fileName, f.size]),
          [["document", "report.csv", 1234]]
        )
        assert.notInclude(recorded?.raw ?? "", "\u0007", "file contents stay out of raw")
        const photoSent = yield* call(() => api.sendPhoto(ann.id, "photo-file-id", { caption: "look" }))
        assert.strictEqual(photoSent.photo?.[0]?.file_id, "photo-file-id")
        const voice = yield* call(() => api.sendVoice(ann.id, new InputFile(new Uint8Array(10))))
        assert.isDefined(voice.voice)
        const tooLong = yield* apiError(() => api.sendPhoto(ann.id, "p", { caption: "c".repeat(1025) }))
        assert.strictEqual(tooLong.description, "Bad Request: message caption is too long")
        const caption = yield* call(() => api.editMessageCaption(ann.id, photoSent.message_id, { caption: "new look" }))
        assert.isTrue(caption !== true && caption.caption === "new look")
      }))
  })

  describe("faults", () => {
    live("status and 429 with retry_after, for a chosen chat and a number of times; other chats unaffected", (fake, api) =>
      Effect.gen(function* () {
        fake.fail("sendMessage", Faults.rateLimit(7), { chatId: ann.id, times: 1 })
        const limited = yield* apiError(() => api.sendMessage(ann.id, "x"))
        assert.deepStrictEqual([limited.code, limited.retryAfter, limited.description], [429, 7, "Too Many Requests: retry after 7"])
        yield* call(() => api.sendMessage(ann.id, "once only"))

        const outage = fake.fail("sendMessage", Faults.status(502, "Bad Gateway"), { when: (body) => body.text === "down" })
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* apiError(() => api.sendMessage(ben.id, "down"))).code, 502)
        yield* call(() => api.sendMessage(ben.id, "up"))
        outage.clear()
        yield* call(() => api.sendMessage(ben.id, "down"))
        assert.strictEqual(outage.remaining(), 0)
        // The old script API is still there.
        fake.script("getMe", { status: 500, body: { ok: false, error_code: 500, description: "Internal" } })
        assert.strictEqual((yield* apiError(() => api.getMe())).code, 500)
        yield* call(() => api.getMe())
      }))

    live("delay holds the answer while other requests go on; drop cuts the connection, before or after applying", (fake, api) =>
      Effect.gen(function* () {
        fake.fail("sendMessage", Faults.delay("300 millis"), { chatId: ann.id, times: 1 })
        const slow = yield* Effect.forkChild(call(() => api.sendMessage(ann.id, "slow")))
        yield* fake.waitUntil(() => fake.callsTo("sendMessage").length === 1)
        const fast = yield* call(() => api.sendMessage(ben.id, "fast"))
        assert.strictEqual(fast.message_id, 1)
        assert.isUndefined(fiberDone(slow), "the delayed answer is still pending")
        assert.strictEqual((yield* Fiber.join(slow)).text, "slow")

        fake.fail("sendMessage", Faults.drop(), { times: 1 })
        const dropped = yield* failure(() => api.sendMessage(ann.id, "lost"))
        assert.instanceOf(dropped, HttpError)
        assert.deepStrictEqual(fake.chat(ann.id).messages.map((m) => "text" in m ? m.text : ""), ["slow"], "nothing was sent")

        fake.fail("sendMessage", Faults.drop({ afterApplying: true }), { times: 1 })
        assert.instanceOf(yield* failure(() => api.sendMessage(ann.id, "sent, answer lost")), HttpError)
        assert.deepStrictEqual(
          fake.chat(ann.id).messages.map((m) => "text" in m ? m.text : ""),
          ["slow", "sent, answer lost"],
          "the message exists although the bot never heard back"
        )
        assert.strictEqual(fake.stats().statuses.dropped, 2)
      }))
  })

  describe("people and the change feed", () => {
    live("send and press build updates as Telegram does, with per-chat message ids and the pressed message's current keyboard", (fake, api) =>
      Effect.gen(function* () {
        const start = yield* fake.send(ann, "/start c42")
        assert.deepStrictEqual(start.message?.entities, [{ type: "bot_command", offset: 0, length: 6 }])
        assert.strictEqual(start.message?.message_id, 1)
        const keyboard = { inline_keyboard: [[{ text: "👍 0", callback_data: "1:lk:5" }, { text: "Next ➡️", callback_data: "1:cp:1:2" }]] }
        const menu = yield* call(() => api.sendMessage(ann.id, "page 1", { reply_markup: keyboard }))
        assert.strictEqual(menu.message_id, 2, "the person's message took id 1 in the same chat")

        const byText = yield* fake.press(ann, ann.id, menu.message_id, "Next ➡️")
        assert.strictEqual(byText.callback_query?.data, "1:cp:1:2")
        assert.deepStrictEqual(byText.callback_query?.message?.reply_markup, keyboard)
        assert.isAbove(byText.update_id, start.update_id)
        const updated = { inline_keyboard: [[{ text: "👍 1", callback_data: "1:lk:5" }]] }
        yield* call(() => api.editMessageReplyMarkup(ann.id, menu.message_id, { reply_markup: updated }))
        const byData = yield* fake.press(ann, ann.id, menu.message_id, "1:lk:5")
        assert.deepStrictEqual(byData.callback_query?.message?.reply_markup, updated, "the press carries the keyboard as it is now")
        const gone = yield* Effect.flip(fake.press(ann, ann.id, menu.message_id, "Next ➡️"))
        assert.strictEqual(gone.reason._tag, "NoSuchButton")
        const missing = yield* Effect.flip(fake.press(ann, ann.id, 99, "x"))
        assert.strictEqual(missing.reason._tag, "NoSuchMessage")

        const photoUpdate = yield* fake.send(ann, { kind: "photo", caption: "my cat" })
        assert.strictEqual(photoUpdate.message?.caption, "my cat")
        assert.isDefined(photoUpdate.message?.photo)
        const edited = yield* fake.edit(ann, start.message?.message_id ?? 0, "/start c43")
        assert.strictEqual(edited.edited_message?.text, "/start c43")
        const received = yield* call(() => api.getUpdates({}))
        assert.deepStrictEqual(updateIds(received), updateIds([start, byText, byData, photoUpdate, edited]))
        // Pushed raw updates and built ones share one rising sequence.
        const raw = photo(ben)
        assert.isAbove(raw.update_id, edited.update_id)
      }))

    live("changes - new messages, edits, deletes and callback answers stream out; answered presses name their chat", (fake, api) =>
      Effect.gen(function* () {
        const events = yield* Stream.take(fake.changes, 6).pipe(Stream.runCollect, Effect.forkChild)
        yield* Effect.yieldNow
        const press = yield* fake.send(ann, "hello")
        const reply = yield* call(() => api.sendMessage(ann.id, "hi!", { reply_markup: { inline_keyboard: [[{ text: "ok", callback_data: "ok" }]] } }))
        const pressed = yield* fake.press(ann, ann.id, reply.message_id, "ok")
        yield* call(() => api.answerCallbackQuery(pressed.callback_query?.id ?? "", { text: "Done!", show_alert: true }))
        yield* call(() => api.editMessageText(ann.id, reply.message_id, "hi again"))
        yield* call(() => api.deleteMessage(ann.id, reply.message_id))
        yield* call(() => api.sendMessage(ben.id, "other chat"))
        const seen = yield* Fiber.join(events)
        assert.deepStrictEqual(
          seen.map((event: ChatEvent) => [event._tag, event.chatId]),
          [
            ["MessageReceived", ann.id],
            ["MessageSent", ann.id],
            ["CallbackAnswered", ann.id],
            ["MessageEdited", ann.id],
            ["MessageDeleted", ann.id],
            ["MessageSent", ben.id]
          ]
        )
        const answer = seen[2]
        assert.deepStrictEqual(answer?._tag === "CallbackAnswered" ? [answer.text, answer.showAlert] : [], ["Done!", true])
        assert.strictEqual(press.message?.text, "hello")
        const unknown = yield* apiError(() => api.answerCallbackQuery("no-such-query"))
        assert.strictEqual(unknown.description, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        const recorded = fake.callsTo("answerCallbackQuery")[0] as ApiCall
        assert.strictEqual(recorded.chatId, ann.id, "the recorded answer names the presser's chat")
        fake.clearCalls()
        assert.strictEqual(fake.calls.length, 0)
        yield* call(() => api.setMyCommands([{ command: "start", description: "Start" }]))
        assert.deepStrictEqual(yield* call(() => api.getMyCommands()), [{ command: "start", description: "Start" }])
        const invalid = yield* apiError(() => api.setMyCommands([{ command: "Bad Command", description: "x" }]))
        assert.strictEqual(invalid.description, "Bad Request: BOT_COMMAND_INVALID")
        assert.strictEqual((yield* fake.waitForCall((c) => c.method === "setMyCommands")).method, "setMyCommands")
      }))
  })

  describe("snapshot", () => {
    live("snapshot - a restored emulator shows the same chats, goes on numbering messages, and hands out newer update ids", (fake, api) =>
      Effect.gen(function* () {
        yield* fake.send(ann, "hello")
        yield* call(() =>
          api.sendMessage(ann.id, "<b>Hi</b> Ann", {
            parse_mode: "HTML",
            reply_markup: { keyboard: [[{ text: "Menu" }]], resize_keyboard: true }
          })
        )
        yield* call(() =>
          api.sendMessage(ann.id, "Pick", { reply_markup: { inline_keyboard: [[{ text: "Go", callback_data: "go" }]] } })
        )
        yield* call(() => api.sendMessage("@snapshot_channel", "post"))
        const channel = fake.chat("@snapshot_channel").chatId
        // Through JSON, as the playground keeps it on disk; as if saved by a process that had handed out many more ids
        // (a new process starts counting from zero, and the bot de-duplicates updates by id).
        const saved = { ...JSON.parse(JSON.stringify(fake.snapshot())), lastUpdateId: lastUpdateId() + 1_000_000 }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const restored = yield* BotApiEmulator
            const again = new Api(restored.token, { apiRoot: restored.apiRoot })
            assert.deepStrictEqual(restored.chat(ann.id), fake.chat(ann.id))
            assert.strictEqual(restored.chat("@snapshot_channel").chatId, channel)
            assert.deepStrictEqual(restored.chat(channel).messages, fake.chat(channel).messages)
            const next = yield* call(() => again.sendMessage(ann.id, "later"))
            assert.strictEqual(next.message_id, 4)
            const press = yield* restored.press(ann, ann.id, 3, "Go")
            assert.isAbove(press.update_id, saved.lastUpdateId)
            const update = yield* restored.send(ann, "again")
            assert.isAbove(update.update_id, press.update_id)
            assert.strictEqual(update.message?.message_id, 5)
          }).pipe(Effect.provide(BotApiEmulator.layer({ restore: saved })))
        )
      }))
  })
})

const fiberDone = <A, E>(fiber: Fiber.Fiber<A, E>) => fiber.pollUnsafe()
