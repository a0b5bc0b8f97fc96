// Issue 5 end to end: onboarding, confessing, moderating, profile and the admin commands, through the real app
// (grammY over HTTP to the Bot API emulator, the dispatcher, the router, the services and a test database).
// Each test launches its own app on a fresh database; a step waits until the dispatcher has handled its update.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Scope } from "effect"
import type { PgClient } from "@effect/sql-pg"
import { SqlClient } from "effect/sql"
import type { Update } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { Empty } from "../../src/domain/Validation.ts"
import * as Admin from "../../src/features/Admin.ts"
import * as Confess from "../../src/features/Confess.ts"
import * as Fallback from "../../src/features/Fallback.ts"
import * as Help from "../../src/features/Help.ts"
import * as Moderate from "../../src/features/Moderate.ts"
import * as Profile from "../../src/features/Profile.ts"
import * as Start from "../../src/features/Start.ts"
import { Confessions } from "../../src/services/Confessions.ts"
import { Courier } from "../../src/services/Courier.ts"
import { Users } from "../../src/services/Users.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import { adminsOnly } from "../../src/views/Messages.ts"
import * as Messages from "../../src/views/Messages.ts"
import { type ApiCall, botInfo, BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { callback, document, type Person, person, photo, sticker, text } from "../../src/emulator/Updates.ts"

const features = Layer.mergeAll(
  Start.layer,
  Help.layer,
  Confess.layer,
  Moderate.layer,
  Profile.layer,
  Admin.layer,
  Fallback.layer
)

const channel = -1001234567890
// Distinctive names and id, so "never shows A" can be checked by searching every request body for them.
const ann = person(731_946_285, "Zephyrine", "zeph_secret_77")
const bea = person(TestApp.admins.bea, "Bea", "bea_mod")
const cal = person(TestApp.admins.cal, "Cal", "cal_mod")
const dan = person(640_001, "Dan", "dan_d")

/** Confessing several times in one test must not hit the per-user cooldown, unless a test asks for it. */
const defaultEnv = { CONFESSION_COOLDOWN: "0 seconds", CONFESSIONS_PER_HOUR: "1000" }

const data = (action: CallbackData.CallbackData) => CallbackData.toString(action)
const confessionId = (id: number) => ConfessionId.make(id)

/**
 * One app on a fresh database (or the given one, to restart on the same data; closing `scope` stops it), and the
 * helpers a script needs.
 */
const launch = (
  env: Record<string, string> = {},
  options: {
    readonly database?: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown>
    readonly scope?: Scope.Scope
  } = {}
) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const layer = TestApp.layer({ features, env: { ...defaultEnv, ...env }, database: options.database ?? TestDatabase.layer() })
    const app = yield* options.scope === undefined ? Layer.build(layer) : Layer.buildWithScope(layer, options.scope)
    const dispatcher = Context.get(app, Dispatcher)
    const courier = Context.get(app, Courier)
    const sql = Context.get(app, SqlClient.SqlClient)

    /** Pushes updates as one getUpdates batch and waits until the dispatcher has handled all of them. */
    const send = (...updates: ReadonlyArray<Update>) =>
      Effect.gen(function* () {
        fake.push(...updates)
        const last = Math.max(...updates.map((u) => u.update_id))
        // Confirmed means stored and accepted (the poller offers a batch before asking for the next); then idle
        // means handled.
        yield* fake.waitUntil(() => fake.confirmedOffset() > last)
        yield* dispatcher.awaitIdle
        // Then what the handled updates queued in the outbox: notices, admin copies, channel posts.
        yield* TestApp.settled(courier, sql)
      })

    const say = (who: Person, body: string) => send(text(who, body))
    const press = (who: Person, action: CallbackData.CallbackData, messageId = 1) => send(callback(who, data(action), messageId))

    const sent = (chatId: number): ReadonlyArray<ApiCall> =>
      fake.callsTo("sendMessage").filter((call) => call.body.chat_id === chatId)
    const lastText = (chatId: number): string => String(sent(chatId).at(-1)?.body.text ?? "")
    const edits = (chatId: number): ReadonlyArray<ApiCall> =>
      fake.callsTo("editMessageText").filter((call) => call.body.chat_id === chatId)
    const answers = (update: Update): ReadonlyArray<string> =>
      fake
        .callsTo("answerCallbackQuery")
        .filter((call) => call.body.callback_query_id === update.callback_query?.id)
        .map((call) => String(call.body.text ?? ""))
    const channelPosts = (id: number) =>
      sent(channel).filter((call) => String(call.body.text).startsWith(`<b>#${id}</b>`))

    const confessionRow = (id: number) =>
      Effect.map(
        sql<{ status: string; channelMessageId: string | null; anonymous: boolean }>`
          select status, channel_message_id::text as channel_message_id, anonymous from confessions where id = ${id}`,
        (rows) => rows[0]
      )

    /** /confess, the text, ✅ Submit: returns the new confession's id, read from the author's confirmation. */
    const confess = (who: Person, body: string, options: { readonly toggleAnonymous?: boolean } = {}) =>
      Effect.gen(function* () {
        yield* say(who, "/confess")
        yield* say(who, body)
        if (options.toggleAnonymous) yield* press(who, CallbackData.PreviewToggleAnonymous(), 500)
        yield* press(who, CallbackData.PreviewSubmit(), 500)
        const confirmation = edits(who.id).map((call) => String(call.body.text)).findLast((t) => t.includes("is waiting for review"))
        const id = Number(/#(\d+)/.exec(confirmation ?? "")?.[1])
        assert.isTrue(Number.isSafeInteger(id) && id > 0, `no confirmation for ${who.first_name}: ${confirmation}`)
        return id
      })

    return { fake, app, sql, send, say, press, sent, lastText, edits, answers, channelPosts, confessionRow, confess }
  })

const live = <A, E>(name: string, body: () => Effect.Effect<A, E, BotApiEmulator | Scope.Scope>) =>
  it.live(name, () => body().pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

describe("Confessions end to end", () => {
  live("happy path - A confesses anonymously, both admins notified, B approves, C's copy edited, A told, profile counts", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      yield* bot.say(ann, "/start")
      const greeting = bot.sent(ann.id).at(-1)
      assert.include(String(greeting?.body.text), "Zephyrine")
      assert.deepStrictEqual(
        (greeting?.body.reply_markup as { keyboard: Array<Array<{ text: string }>> }).keyboard[0]?.map((b) => b.text),
        ["✍️ Confess", "👤 Profile", "ℹ️ Help"]
      )

      yield* bot.say(ann, "✍️ Confess")
      assert.strictEqual(bot.lastText(ann.id), Messages.confessPrompt(3500))
      yield* bot.say(ann, "I still sleep with my childhood teddy bear")
      const preview = bot.sent(ann.id).at(-1)
      assert.include(String(preview?.body.text), "I still sleep with my childhood teddy bear")
      assert.include(String(preview?.body.text), "— Anonymous")
      const submitPress = callback(ann, data(CallbackData.PreviewSubmit()), 321)
      yield* bot.send(submitPress)
      assert.deepStrictEqual(bot.answers(submitPress), [Messages.submittedToast])
      const confirmation = bot.edits(ann.id).at(-1)
      assert.strictEqual(confirmation?.body.message_id, 321)
      assert.strictEqual(confirmation?.body.text, Messages.submitted(1))

      // Both admins got a copy with ✅ Approve · ❌ Reject, and both copies are recorded.
      for (const admin of [bea, cal]) {
        const copy = bot.sent(admin.id).at(-1)
        assert.include(String(copy?.body.text), "Confession #1")
        assert.include(String(copy?.body.text), "— Anonymous")
        assert.deepStrictEqual(copy?.body.reply_markup, {
          inline_keyboard: [
            [
              { text: "✅ Approve", callback_data: data(CallbackData.Approve({ confessionId: confessionId(1) })) },
              { text: "❌ Reject", callback_data: data(CallbackData.Reject({ confessionId: confessionId(1) })) }
            ]
          ]
        })
      }
      const copies = yield* bot.sql<{ adminId: string; messageId: string }>`
        select call::json ->> 'chatId' as admin_id, result_message_id::text as message_id from outbox
        where topic = 'confession:1' and kind = 'admin_notice' and status = 'delivered' order by admin_id`
      assert.deepStrictEqual(copies.map((c) => Number(c.adminId)), [bea.id, cal.id])

      const approvePress = callback(bea, data(CallbackData.Approve({ confessionId: confessionId(1) })))
      yield* bot.send(approvePress)
      assert.deepStrictEqual(bot.answers(approvePress), [Messages.approvedToast])

      // The channel post: #ID, the text, "Anonymous", and the deep-link button.
      const posts = bot.channelPosts(1)
      assert.strictEqual(posts.length, 1)
      assert.strictEqual(posts[0]?.body.text, "<b>#1</b>\n\nI still sleep with my childhood teddy bear\n\n— Anonymous")
      assert.deepStrictEqual(posts[0]?.body.reply_markup, {
        inline_keyboard: [[{ text: "💬 View / Add Comments", url: `https://t.me/${botInfo.username}?start=c1` }]]
      })
      const row = yield* bot.confessionRow(1)
      assert.strictEqual(row?.status, "approved")
      assert.isNotNull(row?.channelMessageId)

      // A is told, with the post's link.
      assert.strictEqual(
        bot.lastText(ann.id),
        Messages.authorApproved(1, `https://t.me/c/1234567890/${row?.channelMessageId}`)
      )
      // Every admin's copy (C's too) now shows the outcome and has no buttons.
      for (const copy of copies) {
        const edit = bot.edits(Number(copy.adminId)).find((call) => call.body.message_id === Number(copy.messageId))
        assert.isDefined(edit, `admin ${copy.adminId}'s copy edited`)
        assert.isTrue(String(edit?.body.text).startsWith("✅ Approved by an admin"))
        assert.isUndefined(edit?.body.reply_markup)
      }

      yield* bot.say(ann, "/profile")
      const profile = bot.lastText(ann.id)
      assert.include(profile, "📝 Approved confessions: 1")
      assert.include(profile, "⭐ Impact points: 10")
      assert.include(profile, "🎭 Anonymity: <b>on</b>")
      assert.include(profile, "🤝 Acceptance score: —")
    }))

  live("named - a confession under the author's name shows first name and @username in the channel", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const id = yield* bot.confess(ann, "I am the one who ate the last slice", { toggleAnonymous: true })
      const toggled = bot.edits(ann.id).find((call) => String(call.body.text).includes("👀 <b>Preview</b>"))
      assert.include(String(toggled?.body.text), "— Zephyrine @zeph_secret_77")
      yield* bot.press(cal, CallbackData.Approve({ confessionId: confessionId(id) }))
      assert.strictEqual(
        bot.channelPosts(id)[0]?.body.text,
        `<b>#${id}</b>\n\nI am the one who ate the last slice\n\n— Zephyrine @zeph_secret_77`
      )
      assert.isFalse((yield* bot.confessionRow(id))?.anonymous)

      // /anonymous_off makes named the default for the next one, without a toggle.
      yield* bot.say(ann, "/anonymous_off")
      assert.strictEqual(bot.lastText(ann.id), Messages.anonymityChanged(false))
      yield* bot.say(ann, "/confess")
      yield* bot.say(ann, "Named by default now")
      assert.include(bot.lastText(ann.id), "— Zephyrine @zeph_secret_77")
    }))

  live("anonymity - nothing addressed to anyone but A ever contains A's name, username or id", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      yield* bot.say(ann, "/start")
      const first = yield* bot.confess(ann, "Anonymous one")
      const second = yield* bot.confess(ann, "Anonymous two")
      yield* bot.say(bea, "/pending")
      yield* bot.press(bea, CallbackData.Approve({ confessionId: confessionId(first) }))
      yield* bot.press(cal, CallbackData.Reject({ confessionId: confessionId(second) }))
      yield* bot.say(cal, "Please keep it kind")
      yield* bot.say(bea, `/block c${first}`)
      yield* bot.say(bea, `/unblock c${first}`)
      yield* bot.say(bea, "/stats")
      yield* bot.say(ann, "/myconfessions")
      assert.isAtLeast(bot.channelPosts(first).length, 1)

      const toOthers = bot.fake.calls.filter((call) => call.body.chat_id !== ann.id)
      assert.isAbove(toOthers.filter((call) => call.method === "sendMessage").length, 5)
      for (const call of toOthers) {
        for (const secret of [ann.first_name, ann.username ?? "", String(ann.id)]) {
          assert.notInclude(call.raw, secret, `${call.method} to ${String(call.body.chat_id)} reveals the author`)
        }
      }
    }))

  live("race - B and C press Approve at the same instant, 100 times: exactly one channel post each", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const ids = yield* Effect.gen(function* () {
        const author = yield* (yield* Users).register({
          id: UserId.make(ann.id),
          firstName: ann.first_name,
          lastName: undefined,
          username: ann.username
        })
        const confessions = yield* Confessions
        return yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) =>
          Effect.map(confessions.submit({ author, text: `race ${i}`, anonymous: true }), (c) => c.id)
        )
      }).pipe(Effect.provideContext(bot.app))

      const presses = ids.flatMap((id) => [
        callback(bea, data(CallbackData.Approve({ confessionId: id }))),
        callback(cal, data(CallbackData.Approve({ confessionId: id })))
      ])
      yield* bot.send(...presses)

      for (const [index, id] of ids.entries()) {
        assert.strictEqual(bot.channelPosts(id).length, 1, `confession #${id}`)
        const answered = [presses[2 * index], presses[2 * index + 1]].map((press) => (press ? bot.answers(press) : []))
        assert.sameMembers(answered.flat(), [Messages.approvedToast, Messages.alreadyDecided(id, "approved")], `#${id}`)
      }
      const [counts] = yield* bot.sql<{ approved: string; posted: string }>`
        select count(*) filter (where status = 'approved')::text as approved,
               count(channel_message_id)::text as posted from confessions`
      assert.deepStrictEqual(counts, { approved: "100", posted: "100" })
    }))

  live("reject - A is told, C's reason reaches A, both admins' copies show the outcome", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const id = yield* bot.confess(ann, "Something too personal")
      yield* bot.press(cal, CallbackData.Reject({ confessionId: confessionId(id) }))
      assert.strictEqual(bot.lastText(ann.id), Messages.authorRejected(id))
      assert.strictEqual(bot.lastText(cal.id), Messages.askRejectReason(id))
      assert.isTrue(bot.edits(bea.id).some((call) => String(call.body.text).startsWith("❌ Rejected")))

      yield* bot.say(cal, "Please leave out <names> & places")
      assert.strictEqual(bot.lastText(ann.id), Messages.authorRejectReason(id, "Please leave out <names> & places"))
      assert.include(bot.lastText(ann.id), "&lt;names&gt; &amp; places")
      assert.strictEqual(bot.lastText(cal.id), Messages.reasonSent)
      assert.strictEqual((yield* bot.confessionRow(id))?.status, "rejected")

      // The flow is over: a further text is not another reason; a second press changes nothing.
      yield* bot.say(cal, "one more thing")
      assert.strictEqual(bot.lastText(cal.id), Messages.notUnderstood)
      const again = callback(bea, data(CallbackData.Approve({ confessionId: confessionId(id) })))
      yield* bot.send(again)
      assert.deepStrictEqual(bot.answers(again), [Messages.alreadyDecided(id, "rejected")])
      assert.strictEqual(bot.channelPosts(id).length, 0)

      // /skip ends the reason flow without sending anything.
      const other = yield* bot.confess(ann, "Another one")
      yield* bot.press(bea, CallbackData.Reject({ confessionId: confessionId(other) }))
      const before = bot.sent(ann.id).length
      yield* bot.say(bea, "/skip")
      assert.strictEqual(bot.lastText(bea.id), Messages.reasonSkipped)
      assert.strictEqual(bot.sent(ann.id).length, before)
    }))

  live("delete - a published confession loses its channel post and leaves an audit row", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const id = yield* bot.confess(ann, "Delete me later")
      yield* bot.press(bea, CallbackData.Approve({ confessionId: confessionId(id) }))
      const postId = Number((yield* bot.confessionRow(id))?.channelMessageId)

      yield* bot.say(bea, `/delete ${id}`)
      const deletion = bot.fake.callsTo("deleteMessage")
      assert.deepStrictEqual(deletion.map((call) => [call.body.chat_id, call.body.message_id]), [[channel, postId]])
      assert.strictEqual(bot.lastText(bea.id), Messages.deleted(id, "removing"))
      assert.strictEqual((yield* bot.confessionRow(id))?.status, "deleted")
      const audit = yield* bot.sql<{ actorId: string; action: string }>`
        select actor_id::text as actor_id, action from audit_log where subject_kind = 'confession' and subject_id = ${id}`
      assert.deepStrictEqual(audit.map((row) => [Number(row.actorId), row.action]), [[bea.id, "delete"]])

      yield* bot.say(bea, `/delete ${id}`)
      assert.strictEqual(bot.lastText(bea.id), Messages.alreadyDeleted(id))
      for (const junk of ["/delete", "/delete abc", "/delete -3", "/delete 0", "/delete 99999999999999999999", "/delete 1 2"]) {
        yield* bot.say(bea, junk)
        assert.strictEqual(bot.lastText(bea.id), Messages.deleteUsage, junk)
      }
      yield* bot.say(bea, "/delete 4242")
      assert.strictEqual(bot.lastText(bea.id), Messages.confessionNotFound(4242))
      assert.strictEqual(bot.fake.callsTo("deleteMessage").length, 1)
    }))

  live("validation - whitespace, 3,501 characters, a sticker and a file get the rule and keep the flow", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      yield* bot.say(ann, "/confess")
      yield* bot.say(ann, "   \n  ")
      assert.strictEqual(bot.lastText(ann.id), Messages.textProblem(new Empty(), "confession"))
      yield* bot.say(ann, "x".repeat(3501))
      assert.include(bot.lastText(ann.id), "Your confession has 3,501 characters; the limit is 3,500")
      yield* bot.send(sticker(ann))
      assert.strictEqual(bot.lastText(ann.id), Messages.textPhotoOrVoice)
      yield* bot.send(document(ann, "holiday.jpg"))
      assert.strictEqual(bot.lastText(ann.id), Messages.sendAsPhoto)
      // Still in the flow: the next valid text becomes a preview.
      yield* bot.say(ann, "x".repeat(3500))
      assert.include(bot.lastText(ann.id), "👀 <b>Preview</b>")
      const [none] = yield* bot.sql<{ n: string }>`select count(*)::text as n from confessions`
      assert.strictEqual(none?.n, "0")
    }))

  live("escaping - <b>& shows as typed in the preview, the admins' copies and the channel", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const id = yield* bot.confess(ann, `<b>& <a href="https://evil.example">pay</a>`)
      const escaped = "&lt;b&gt;&amp; &lt;a href=&quot;https://evil.example&quot;&gt;pay&lt;/a&gt;"
      assert.include(String(bot.sent(bea.id).at(-1)?.body.text), escaped)
      yield* bot.press(bea, CallbackData.Approve({ confessionId: confessionId(id) }))
      assert.strictEqual(bot.channelPosts(id)[0]?.body.text, `<b>#${id}</b>\n\n${escaped}\n\n— Anonymous`)
    }))

  live("admins only - a non-admin tries every admin command and a forged Approve: refused, nothing changes", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const id = yield* bot.confess(ann, "Pending forever")
      for (const command of ["/pending", "/stats", `/delete ${id}`, `/block c${id}`, `/unblock c${id}`]) {
        yield* bot.say(dan, command)
        assert.strictEqual(bot.lastText(dan.id), adminsOnly, command)
      }
      for (const action of [
        CallbackData.Approve({ confessionId: confessionId(id) }),
        CallbackData.Reject({ confessionId: confessionId(id) }),
        CallbackData.PendingPage({ page: 1 })
      ]) {
        const forged = callback(dan, data(action))
        yield* bot.send(forged)
        assert.deepStrictEqual(bot.answers(forged), [adminsOnly])
      }
      assert.strictEqual((yield* bot.confessionRow(id))?.status, "pending")
      assert.strictEqual(bot.sent(channel).length, 0)
      const [audit] = yield* bot.sql<{ n: string }>`select count(*)::text as n from audit_log`
      assert.strictEqual(audit?.n, "0")
      const [blocked] = yield* bot.sql<{ n: string }>`select count(*)::text as n from users where blocked`
      assert.strictEqual(blocked?.n, "0")
    }))

  live("state TTL - a text after STATE_TTL is not turned into a confession", () =>
    Effect.gen(function* () {
      const bot = yield* launch({ STATE_TTL: "2 seconds" })
      yield* bot.say(ann, "/confess")
      assert.strictEqual(bot.lastText(ann.id), Messages.confessPrompt(3500))
      // The one real wait in this file: the flow has to grow older than STATE_TTL on the real clock.
      yield* Effect.sleep("2500 millis")
      yield* bot.say(ann, "This should not become a confession")
      assert.strictEqual(bot.lastText(ann.id), Messages.notUnderstood)
      assert.notInclude(
        bot.sent(ann.id).map((call) => String(call.body.text)).join("\n"),
        "👀 <b>Preview</b>"
      )
      const [none] = yield* bot.sql<{ n: string }>`select count(*)::text as n from confessions`
      assert.strictEqual(none?.n, "0")
    }))

  live("block - a blocked author cannot confess and is told; unblock restores", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const id = yield* bot.confess(ann, "First")
      // Ann has a preview open when the block lands.
      yield* bot.say(ann, "/confess")
      yield* bot.say(ann, "Second")
      yield* bot.say(bea, `/block c${id}`)
      assert.strictEqual(bot.lastText(bea.id), Messages.blockedAuthor("confession", id))
      // A second block answers the same: nothing tells whether the author was blocked already.
      yield* bot.say(bea, `/block c${id}`)
      assert.strictEqual(bot.lastText(bea.id), Messages.blockedAuthor("confession", id))

      const submit = callback(ann, data(CallbackData.PreviewSubmit()))
      yield* bot.send(submit)
      assert.deepStrictEqual(bot.answers(submit), [Messages.blocked])
      yield* bot.say(ann, "/confess")
      assert.strictEqual(bot.lastText(ann.id), Messages.blocked)
      const [count] = yield* bot.sql<{ n: string }>`select count(*)::text as n from confessions`
      assert.strictEqual(count?.n, "1")

      for (const junk of ["/block", "/block 5", "/block x5", "/block c", "/block c0", "/block c5 m6"]) {
        yield* bot.say(bea, junk)
        assert.strictEqual(bot.lastText(bea.id), Messages.blockUsage("block"), junk)
      }
      yield* bot.say(bea, "/unblock m77")
      assert.strictEqual(bot.lastText(bea.id), Messages.subjectNotFound("comment", 77))

      yield* bot.say(bea, `/unblock c${id}`)
      assert.strictEqual(bot.lastText(bea.id), Messages.unblockedAuthor("confession", id))
      const again = yield* bot.confess(ann, "Back again")
      assert.strictEqual(again, id + 1)
    }))

  live("stats - /stats numbers match the database after a scripted mix", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const approved = yield* bot.confess(ann, "one")
      const rejected = yield* bot.confess(dan, "two")
      const deleted = yield* bot.confess(ann, "three")
      yield* bot.confess(dan, "four")
      yield* bot.press(bea, CallbackData.Approve({ confessionId: confessionId(approved) }))
      yield* bot.press(cal, CallbackData.Reject({ confessionId: confessionId(rejected) }))
      yield* bot.say(cal, "/skip")
      yield* bot.press(bea, CallbackData.Approve({ confessionId: confessionId(deleted) }))
      yield* bot.say(bea, `/delete ${deleted}`)
      yield* bot.say(bea, "/stats")
      const shown = bot.lastText(bea.id)

      const [db] = yield* bot.sql<Record<string, string>>`
        select
          (select count(*) from users)::text as users,
          (select count(*) from confessions)::text as confessions,
          (select count(*) from confessions where status = 'pending')::text as pending,
          (select count(*) from confessions where status = 'approved')::text as approved,
          (select count(*) from confessions where status = 'rejected')::text as rejected,
          (select count(*) from confessions where status = 'deleted')::text as deleted,
          (select count(*) from comments)::text as comments,
          (select count(*) from reactions)::text as reactions,
          (select count(*) from users where last_seen_at > now() - interval '24 hours')::text as active`
      assert.deepStrictEqual(
        [db?.users, db?.pending, db?.approved, db?.rejected, db?.deleted],
        ["4", "1", "1", "1", "1"],
        "the script did what it meant to"
      )
      const line = (label: string) => new RegExp(`${label}: (\\d+)`).exec(shown)?.[1]
      assert.strictEqual(line("👥 Users"), db?.users)
      assert.strictEqual(line("⏳ Pending"), db?.pending)
      assert.strictEqual(line("✅ Approved"), db?.approved)
      assert.strictEqual(line("❌ Rejected"), db?.rejected)
      assert.strictEqual(line("🗑 Deleted"), db?.deleted)
      assert.strictEqual(line("💬 Comments"), db?.comments)
      assert.strictEqual(line("👍 Reactions"), db?.reactions)
      assert.strictEqual(line("🟢 Active users"), db?.active)
      assert.strictEqual(/📝 Confessions: (\d+)/.exec(shown)?.[1], db?.confessions)
    }))

  live("onboarding - /start, /register, /start junk, /help for users and admins, unknown input never silent", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      for (const command of ["/start", "/register", "/start not-a-deep-link", "/start c0"]) {
        yield* bot.say(dan, command)
        assert.strictEqual(bot.lastText(dan.id), Messages.greeting("Dan"), command)
      }
      yield* bot.say(dan, "/help")
      const help = bot.lastText(dan.id)
      for (const command of ["/confess", "/cancel", "/comments", "/comment", "/profile", "/myconfessions", "/mycomments", "/anonymous_on", "/anonymous_off", "/feedback"]) {
        assert.include(help, `${command} `, command)
      }
      assert.notInclude(help, "/pending")
      yield* bot.say(dan, "ℹ️ Help")
      assert.strictEqual(bot.lastText(dan.id), help)
      yield* bot.say(bea, "/help")
      for (const command of ["/pending", "/stats", "/delete", "/block", "/unblock", "/feedbacks"]) {
        assert.include(bot.lastText(bea.id), command)
      }

      yield* bot.say(dan, "/frobnicate")
      assert.strictEqual(bot.lastText(dan.id), Messages.unknownCommand("/frobnicate"))
      yield* bot.say(dan, "hello?")
      assert.strictEqual(bot.lastText(dan.id), Messages.notUnderstood)
      yield* bot.send(photo(dan))
      assert.strictEqual(bot.lastText(dan.id), Messages.notUnderstood)
      yield* bot.say(dan, "/cancel")
      assert.strictEqual(bot.lastText(dan.id), Messages.nothingToCancel)
      yield* bot.say(dan, "/confess")
      yield* bot.say(dan, "/cancel")
      assert.strictEqual(bot.lastText(dan.id), Messages.cancelled)
      yield* bot.say(dan, "not a confession any more")
      assert.strictEqual(bot.lastText(dan.id), Messages.notUnderstood)
    }))

  live("profile - anonymity changes show at once, the toggle edits in place, /myconfessions pages in place", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      yield* bot.say(ann, "👤 Profile")
      assert.include(bot.lastText(ann.id), "🎭 Anonymity: <b>on</b>")
      yield* bot.say(ann, "/anonymous_off")
      yield* bot.say(ann, "/profile")
      assert.include(bot.lastText(ann.id), "🙂 Anonymity: <b>off</b>")
      const toggle = callback(ann, data(CallbackData.ToggleAnonymity()), 4242)
      yield* bot.send(toggle)
      assert.deepStrictEqual(bot.answers(toggle), [Messages.anonymityToast(true)])
      const edited = bot.edits(ann.id).at(-1)
      assert.strictEqual(edited?.body.message_id, 4242)
      assert.include(String(edited?.body.text), "🎭 Anonymity: <b>on</b>")

      yield* bot.say(ann, "/myconfessions")
      assert.strictEqual(bot.lastText(ann.id), Messages.noConfessionsYet)
      for (let i = 1; i <= 7; i++) yield* bot.confess(ann, `confession number ${i}`)
      yield* bot.press(bea, CallbackData.Reject({ confessionId: confessionId(7) }))
      yield* bot.say(bea, "Not this one")
      yield* bot.say(ann, "/myconfessions")
      const page1 = bot.sent(ann.id).at(-1)
      assert.include(String(page1?.body.text), "My confessions (page 1 of 2)")
      assert.include(String(page1?.body.text), "❌ <b>#7</b> · rejected")
      assert.include(String(page1?.body.text), "Not this one")
      assert.deepStrictEqual(page1?.body.reply_markup, {
        inline_keyboard: [
          [
            { text: "1/2", callback_data: data(CallbackData.Noop()) },
            { text: "➡️", callback_data: data(CallbackData.MyConfessionsPage({ page: 2 })) }
          ]
        ]
      })
      const next = callback(ann, data(CallbackData.MyConfessionsPage({ page: 2 })), 777)
      yield* bot.send(next)
      const page2 = bot.edits(ann.id).at(-1)
      assert.strictEqual(page2?.body.message_id, 777)
      assert.include(String(page2?.body.text), "(page 2 of 2)")
      assert.include(String(page2?.body.text), "confession number 1")
      assert.deepStrictEqual(bot.answers(next), [""])
    }))

  live("pending - admins page through the queue with ✅ / ❌ per confession; the cooldown applies to real submissions", () =>
    Effect.gen(function* () {
      const bot = yield* launch({ CONFESSION_COOLDOWN: "1 hour" })
      yield* bot.say(bea, "/pending")
      assert.strictEqual(bot.lastText(bea.id), Messages.noPending)
      const first = yield* bot.confess(ann, "queued")
      yield* bot.say(ann, "/confess")
      yield* bot.say(ann, "too soon")
      const tooSoon = callback(ann, data(CallbackData.PreviewSubmit()))
      yield* bot.send(tooSoon)
      assert.match(bot.answers(tooSoon)[0] ?? "", /^⏳ Please wait (60 minutes|1 hour) before/)

      for (const who of [dan, person(640_002, "Eve"), person(640_003, "Fay"), person(640_004, "Gus"), person(640_005, "Hal")]) {
        yield* bot.confess(who, `queued by ${who.first_name}`)
      }
      yield* bot.say(bea, "/pending")
      const list = bot.sent(bea.id).at(-1)
      assert.include(String(list?.body.text), "Pending confessions (page 1 of 2)")
      assert.include(String(list?.body.text), `<b>#${first}</b> · just now\nqueued`)
      const keyboard = (list?.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard
      assert.strictEqual(keyboard.length, 6)
      assert.deepStrictEqual(keyboard[0]?.map((b) => b.callback_data), [
        data(CallbackData.Approve({ confessionId: confessionId(first) })),
        data(CallbackData.Reject({ confessionId: confessionId(first) }))
      ])
      yield* bot.press(bea, CallbackData.PendingPage({ page: 2 }), 999)
      const page2 = bot.edits(bea.id).at(-1)
      assert.strictEqual(page2?.body.message_id, 999)
      assert.include(String(page2?.body.text), "queued by Hal")
    }))
})
