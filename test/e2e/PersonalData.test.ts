// /mydata and /forget end to end: the real app with every feature, driven through the Bot API emulator. One person
// builds up every kind of data (anonymous and named published confessions, a pending and a rejected one, comments with
// and without other people's replies, replies, reactions given and received, reports, answered and open feedback);
// their /mydata file is compared with the database, and after /forget every column of every table is searched for
// their id and names, other people's counts are checked, and the channel shows what they chose.
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import type { Message, Update } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId, ConfessionId, FeedbackId, UserId } from "../../src/domain/Ids.ts"
import * as App from "../../src/App.ts"
import { type ApiCall, BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import { callback, message, type Person, person, text } from "../../src/emulator/Updates.ts"
import { Courier } from "../../src/services/Courier.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { Users } from "../../src/services/Users.ts"
import { Dispatcher } from "../../src/updates/Dispatcher.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"


const channel = -1001234567890
// Distinctive id and names, so a search of the whole database for them finds only what is theirs.
const ann: Person = { id: 731_946_812, first_name: "Zelinda", last_name: "Quillfeather", username: "zq_forget_me" }
const annSecrets = [String(ann.id), "Zelinda", "Quillfeather", "zq_forget_me"]
const ben = person(820_111_001, "Bartholomew", "bart_stays")
const cy = person(820_111_002, "Cyrilla", "cyrilla_stays")
const bea = person(TestApp.admins.bea, "Bea", "bea_mod")
const cal = person(TestApp.admins.cal, "Cal", "cal_mod")

/** What the refusal says right after a successful export: the hour, rounded as people say it. */
const hourLeft = Duration.hours(1)

const env = { CONFESSION_COOLDOWN: "0 seconds", CONFESSIONS_PER_HOUR: "1000", REPORT_THRESHOLD: "1" }

const launch = () =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const app = yield* Layer.build(TestApp.layer({ features: App.features, env, database: TestDatabase.layer() }))
    const dispatcher = Context.get(app, Dispatcher)
    const courier = Context.get(app, Courier)
    const sql = Context.get(app, SqlClient.SqlClient)

    /** Waits until `updates` were handled and what they queued in the outbox was delivered. */
    const handled = (...updates: ReadonlyArray<Update>) =>
      Effect.gen(function* () {
        const last = Math.max(...updates.map((u) => u.update_id))
        yield* fake.waitUntil(() => fake.confirmedOffset() > last)
        yield* dispatcher.awaitIdle
        yield* courier.settle
      })
    const send = (...updates: ReadonlyArray<Update>) => Effect.andThen(Effect.sync(() => fake.push(...updates)), handled(...updates))
    const say = (who: Person, body: string) => send(text(who, body))
    const press = (who: Person, action: CallbackData.CallbackData, messageId = 1) =>
      send(callback(who, CallbackData.toString(action), messageId))

    const sent = (chatId: number): ReadonlyArray<ApiCall> =>
      fake.callsTo("sendMessage").filter((call) => call.body.chat_id === chatId)
    const lastText = (chatId: number): string => String(sent(chatId).at(-1)?.body.text ?? "")
    const edits = (chatId: number): ReadonlyArray<ApiCall> =>
      fake.calls.filter((call) => call.method === "editMessageText" && call.body.chat_id === chatId)

    const confess = (who: Person, body: string, named = false) =>
      Effect.gen(function* () {
        yield* say(who, "/confess")
        yield* say(who, body)
        if (named) yield* press(who, CallbackData.PreviewToggleAnonymous(), 500)
        yield* press(who, CallbackData.PreviewSubmit(), 500)
        const [row] = yield* sql<{ id: number }>`select id::int as id from confessions where text = ${body}`
        assert.isDefined(row, `confession "${body}" stored`)
        return ConfessionId.make(row?.id ?? 0)
      })
    const approve = (id: ConfessionId) => press(bea, CallbackData.Approve({ confessionId: id }))
    const comment = (who: Person, on: ConfessionId, body: string) =>
      Effect.gen(function* () {
        yield* say(who, `/comment ${on}`)
        yield* say(who, body)
        return yield* commentId(body)
      })
    const reply = (who: Person, to: CommentId, body: string) =>
      Effect.gen(function* () {
        yield* press(who, CallbackData.Reply({ commentId: to }))
        yield* say(who, body)
        return yield* commentId(body)
      })
    const commentId = (body: string) =>
      Effect.map(sql<{ id: number }>`select id::int as id from comments where text = ${body}`, (rows) => {
        assert.strictEqual(rows.length, 1, `comment "${body}" stored`)
        return CommentId.make(rows[0]?.id ?? 0)
      })
    const channelMessageId = (id: ConfessionId) =>
      Effect.map(
        sql<{ m: number | null }>`select channel_message_id::int as m from confessions where id = ${id}`,
        (rows) => rows[0]?.m ?? null
      )

    /** The bot's last message in `who`'s chat that carries a button labelled `label`. */
    const messageWithButton = (who: Person, label: string): Message | undefined =>
      fake
        .chat(who.id)
        .messages.findLast((message) =>
          (message.reply_markup?.inline_keyboard ?? []).flat().some((button) => button.text === label)
        )
    /** `who` presses the button labelled `label` on the bot's last message showing it. */
    const pressLabel = (who: Person, label: string) =>
      Effect.gen(function* () {
        const message = messageWithButton(who, label)
        assert.isDefined(message, `a message with "${label}"`)
        const update = yield* fake.press(who, who.id, message?.message_id ?? 0, label)
        yield* handled(update)
        return message?.message_id ?? 0
      })

    return {
      fake, app, sql, send, say, press, sent, lastText, edits, confess, approve, comment, reply, commentId, channelMessageId,
      pressLabel
    }
  })

type Bot = Effect.Success<ReturnType<typeof launch>>

const live = <A, E>(name: string, body: () => Effect.Effect<A, E, BotApiEmulator | Scope.Scope>) =>
  it.live(name, () => body().pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 180_000 })

/**
 * Every text, number and JSON column of every table, searched for each needle. Returns "table.column: needle" for
 * every hit.
 */
const searchEverything = (sql: SqlClient.SqlClient, needles: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const columns = yield* sql<{ tableName: string; columnName: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema()
        and data_type in ('text', 'character varying', 'character', 'bigint', 'integer', 'smallint', 'numeric', 'json', 'jsonb')
      order by table_name, column_name`
    assert.isAbove(columns.length, 50, "the search sees the schema")
    const hits: Array<string> = []
    for (const { tableName, columnName } of columns) {
      for (const needle of needles) {
        const [row] = yield* sql<{ n: number }>`
          select count(*)::int as n from ${sql(tableName)} where strpos(${sql(columnName)}::text, ${needle}) > 0`
        if ((row?.n ?? 0) > 0) hits.push(`${tableName}.${columnName}: ${needle}`)
      }
    }
    return hits
  })

/** Every comment's counters equal its rows: likes, dislikes, reports, and (top-level) visible replies. */
const assertCountersMatchRows = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const wrong = yield* sql<{ id: number }>`
      select m.id::int as id from comments m
      where m.likes <> (select count(*) from reactions r where r.comment_id = m.id and r.kind = 'like')
         or m.dislikes <> (select count(*) from reactions r where r.comment_id = m.id and r.kind = 'dislike')
         or m.reports <> (select count(*) from reports p where p.comment_id = m.id)
         or (m.parent_id is null
             and m.replies <> (select count(*) from comments r where r.parent_id = m.id and not r.hidden))`
    assert.deepStrictEqual(wrong, [], "comments whose counters disagree with their rows")
  })

/** Ann's confessions and comments, other people's content around them, and the ids of all of it. */
const buildHistory = (bot: Bot) =>
  Effect.gen(function* () {
    yield* bot.say(ann, "/start")
    const a1 = yield* bot.confess(ann, "anon-one: I skipped every lecture in May")
    yield* bot.approve(a1)
    const a2 = yield* bot.confess(ann, "named-two: I am proud of my thesis", true)
    yield* bot.approve(a2)
    const pending = yield* bot.confess(ann, "pending-three: still waiting")
    const rejected = yield* bot.confess(ann, "rejected-four: too much detail")
    yield* bot.press(cal, CallbackData.Reject({ confessionId: rejected }))
    yield* bot.say(cal, "Too personal, sorry")
    const b1 = yield* bot.confess(ben, "ben-one: I water my neighbour's plants secretly")
    yield* bot.approve(b1)

    const c1 = yield* bot.comment(ann, b1, "ann-comment-with-replies")
    const c2 = yield* bot.comment(ann, b1, "ann-comment-alone")
    const c3 = yield* bot.comment(ben, b1, "ben-comment")
    const r1 = yield* bot.reply(cy, c1, "cy-reply-to-ann")
    const r2 = yield* bot.reply(ann, c3, "ann-reply-to-ben")
    const r3 = yield* bot.reply(ann, c1, "ann-self-reply")
    const c4 = yield* bot.comment(cy, a1, "cy-comment-on-ann")

    yield* bot.press(ann, CallbackData.Like({ commentId: c3 }))
    yield* bot.press(ann, CallbackData.Dislike({ commentId: c4 }))
    yield* bot.press(cy, CallbackData.Like({ commentId: c1 }))
    yield* bot.press(ben, CallbackData.Like({ commentId: c2 }))
    yield* bot.press(ben, CallbackData.Like({ commentId: c4 }))
    yield* bot.press(ann, CallbackData.Report({ commentId: c4 }))
    yield* bot.press(ben, CallbackData.Report({ commentId: c2 }))

    yield* bot.say(ann, "/feedback Please add a dark mode")
    yield* bot.say(ann, "/feedback Second thought: thank you")
    const feedback = yield* bot.sql<{ id: number }>`
      select id::int as id from feedback where author_id = ${ann.id} order by id`
    const [f1, f2] = feedback.map((row) => FeedbackId.make(row.id))
    assert.isDefined(f1)
    assert.isDefined(f2)
    if (f1 === undefined || f2 === undefined) return yield* Effect.die("no feedback")
    yield* bot.press(bea, CallbackData.FeedbackReply({ feedbackId: f1 }))
    yield* bot.say(bea, "It is on our list")
    yield* bot.press(bea, CallbackData.FeedbackResolve({ feedbackId: f1 }))
    return { a1, a2, pending, rejected, b1, c1, c2, c3, c4, r1, r2, r3, f1, f2 }
  })

describe("PersonalData end to end", () => {
  live("/mydata sends everything stored about the person as JSON, nothing about anyone else; once an hour", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const ids = yield* buildHistory(bot)

      yield* bot.say(ann, "/mydata")
      const upload = bot.fake.callsTo("sendDocument").at(-1)
      assert.isDefined(upload)
      assert.strictEqual(upload?.body.chat_id, ann.id)
      assert.strictEqual(upload?.body.caption, Messages.myDataCaption)
      const file = upload?.files.find((f) => f.field === "document")
      assert.strictEqual(file?.fileName, "mydata.json")
      const raw = file?.content.toString("utf8") ?? ""
      assert.strictEqual(file?.size, Buffer.byteLength(raw))
      assert.include(raw, '\n  "profile": {\n    "telegramId"', "pretty-printed")
      const doc = JSON.parse(raw) as {
        about: string
        profile: Record<string, unknown>
        settings: Record<string, unknown>
        confessions: Array<Record<string, unknown>>
        comments: Array<Record<string, unknown>>
        reactions: Array<Record<string, unknown>>
        reports: Array<Record<string, unknown>>
        feedback: Array<Record<string, unknown>>
      }
      assert.strictEqual(doc.about, Messages.myDataAbout)

      // The document is the database, row for row.
      const [user] = yield* bot.sql<{ firstName: string; lastName: string; username: string; createdAt: Date }>`
        select first_name, last_name, username, created_at from users where id = ${ann.id}`
      assert.deepInclude(doc.profile, {
        telegramId: ann.id,
        firstName: "Zelinda",
        lastName: "Quillfeather",
        username: "zq_forget_me",
        registeredAt: user?.createdAt.toISOString()
      })
      assert.deepStrictEqual(doc.settings, { anonymousByDefault: true, blocked: false, inactive: false })

      const confessions = yield* bot.sql<Record<string, unknown>>`
        select id::int as id, status, text, anonymous, reject_reason, channel_message_id::int as channel_message_id
        from confessions where author_id = ${ann.id} order by id`
      assert.deepStrictEqual(
        doc.confessions.map(({ id, status, text, anonymous, rejectReason, channelMessageId }) => ({
          id, status, text, anonymous, rejectReason, channelMessageId
        })),
        confessions
      )
      assert.deepStrictEqual(
        doc.confessions.map((c) => [c.id, c.status]),
        [[ids.a1, "approved"], [ids.a2, "approved"], [ids.pending, "pending"], [ids.rejected, "rejected"]]
      )
      assert.strictEqual(doc.confessions[3]?.rejectReason, "Too personal, sorry")
      assert.isFalse(doc.confessions[1]?.anonymous, "the named one")

      const comments = yield* bot.sql<Record<string, unknown>>`
        select id::int as id, confession_id::int as confession_id, parent_id::int as reply_to, text, hidden, likes,
          dislikes, reports, replies
        from comments where author_id = ${ann.id} order by id`
      assert.deepStrictEqual(
        doc.comments.map(({ createdAt: _, ...rest }) => rest),
        comments
      )
      assert.deepStrictEqual(doc.comments.map((c) => c.id), [ids.c1, ids.c2, ids.r2, ids.r3])
      assert.deepInclude(doc.comments[0] ?? {}, { likes: 1, replies: 2 })

      assert.sameDeepMembers(
        doc.reactions.map(({ commentId, kind }) => ({ commentId, kind })),
        [{ commentId: ids.c3, kind: "like" }, { commentId: ids.c4, kind: "dislike" }]
      )
      assert.deepStrictEqual(doc.reports.map((r) => r.commentId), [ids.c4])
      assert.deepStrictEqual(
        doc.feedback.map(({ id, text, status, adminAnswer }) => ({ id, text, status, adminAnswer })),
        [
          { id: ids.f1, text: "Please add a dark mode", status: "resolved", adminAnswer: "It is on our list" },
          { id: ids.f2, text: "Second thought: thank you", status: "open", adminAnswer: null }
        ]
      )

      // Nothing about anyone else: no other person's id or name, no admin's id (who decided), no one who reacted.
      for (const other of [ben, cy, bea, cal]) {
        for (const secret of [String(other.id), other.first_name, other.username ?? ""]) {
          assert.notInclude(raw, secret, `the file names ${other.first_name}`)
        }
      }
      assert.notInclude(raw, "cy-reply-to-ann", "others' replies are theirs")
      assert.notInclude(raw, "ben-comment", "others' comments are theirs")

      // Once an hour: the second ask is refused, saying when; nothing is sent.
      const uploads = bot.fake.callsTo("sendDocument").length
      yield* bot.say(ann, "/mydata")
      assert.strictEqual(bot.lastText(ann.id), Messages.myDataTooSoon(hourLeft))
      assert.strictEqual(bot.fake.callsTo("sendDocument").length, uploads)
      // A read: no outbox row was written for it.
      const [rows] = yield* bot.sql<{ n: number }>`
        select count(*)::int as n from outbox where call like '%mydata%' or call like '%once an hour%'`
      assert.strictEqual(rows?.n, 0)
    }))

  live("/forget, keeping posts: nothing stored names the person, others' counts are right, the named post is anonymous", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const ids = yield* buildHistory(bot)
      const stats = Context.get(bot.app, StatsCache)
      const a2Post = yield* bot.channelMessageId(ids.a2)
      assert.isNotNull(a2Post)

      // The search works: before, it finds them in many places.
      const before = yield* searchEverything(bot.sql, annSecrets)
      for (const place of ["users.id", "users.first_name", "users.last_name", "users.username", "confessions.author_id", "outbox.call"]) {
        assert.isTrue(before.some((hit) => hit.startsWith(place)), `found in ${place} before`)
      }
      // Others' numbers as cached before (the erasure must forget these entries).
      assert.deepInclude(yield* stats.profileOf(UserId.make(ben.id)), { likesReceived: 1, commentsWritten: 1 })
      assert.deepInclude(yield* stats.profileOf(UserId.make(cy.id)), { likesReceived: 1, dislikesReceived: 1, commentsWritten: 2 })

      yield* bot.say(ann, "/forget")
      assert.strictEqual(bot.lastText(ann.id), Messages.forgetQuestion)
      const callsBefore = bot.fake.calls.length
      const question = yield* bot.pressLabel(ann, Messages.forgetKeepPostsLabel)

      // The final word is an edit of the question, sent directly after the commit.
      const last = bot.edits(ann.id).at(-1)
      assert.strictEqual(last?.body.message_id, question)
      assert.strictEqual(last?.body.text, Messages.forgotten(false))

      // Nothing stored names them.
      assert.deepStrictEqual(yield* searchEverything(bot.sql, annSecrets), [])
      assert.isTrue(Option.isNone(yield* Context.get(bot.app, Users).get(UserId.make(ann.id))))

      // Published confessions stay, anonymous and without author; pending and rejected are gone.
      const confessions = yield* bot.sql<{ id: number; status: string; anonymous: boolean; authorId: number | null }>`
        select id::int as id, status, anonymous, author_id::int as author_id from confessions
        where id in (${ids.a1}, ${ids.a2}, ${ids.pending}, ${ids.rejected}) order by id`
      assert.deepStrictEqual(confessions, [
        { id: ids.a1, status: "approved", anonymous: true, authorId: null },
        { id: ids.a2, status: "approved", anonymous: true, authorId: null }
      ])

      // The named post was edited to Anonymous; no post was deleted.
      const channelEdit = bot.edits(channel).find((call) => call.body.message_id === a2Post)
      assert.strictEqual(channelEdit?.body.text, `<b>#${ids.a2}</b>\n\nnamed-two: I am proud of my thesis\n\n— Anonymous`)
      assert.deepStrictEqual(channelEdit?.body.reply_markup, {
        inline_keyboard: [[{ text: "💬 View / Add Comments", url: `https://t.me/${bot.fake.botInfo.username}?start=c${ids.a2}` }]]
      })
      assert.isFalse(bot.fake.callsTo("deleteMessage").some((call) => call.body.chat_id === channel))
      assert.strictEqual(bot.fake.chat(channel).messages.length, 3, "three posts still in the channel")

      // Admins' copies of the pending confession, the open feedback and the reported comment say "withdrawn".
      const after = bot.fake.calls.slice(callsBefore)
      for (const admin of [bea, cal]) {
        const edited = after
          .filter((call) => call.method === "editMessageText" && call.body.chat_id === admin.id)
          .map((call) => String(call.body.text))
        assert.sameMembers(edited, [
          Messages.withdrawnCopy("confession", ids.pending),
          Messages.withdrawnCopy("feedback", ids.f2),
          Messages.withdrawnCopy("comment", ids.c2)
        ])
      }
      // Nothing else went out because of it: no notices to other people.
      assert.deepStrictEqual(
        after.filter((call) => call.method === "sendMessage").map((call) => call.body.chat_id),
        []
      )

      // Comments: ann's comment with cy's reply is a tombstone; the rest of ann's comments are gone.
      const comments = yield* bot.sql<{ id: number; authorId: number | null; text: string; likes: number; replies: number }>`
        select id::int as id, author_id::int as author_id, text, likes, replies from comments order by id`
      assert.deepStrictEqual(comments, [
        { id: ids.c1, authorId: null, text: "", likes: 0, replies: 1 },
        { id: ids.c3, authorId: ben.id, text: "ben-comment", likes: 0, replies: 0 },
        { id: ids.r1, authorId: cy.id, text: "cy-reply-to-ann", likes: 0, replies: 0 },
        { id: ids.c4, authorId: cy.id, text: "cy-comment-on-ann", likes: 1, replies: 0 }
      ])
      yield* assertCountersMatchRows(bot.sql)

      // Others' numbers, through the stats cache (forgotten by the erasure, so not the cached ones).
      const benStats = yield* stats.profileOf(UserId.make(ben.id))
      assert.deepInclude(benStats, { approvedConfessions: 1, commentsWritten: 1, likesReceived: 0, dislikesReceived: 0 })
      const cyStats = yield* stats.profileOf(UserId.make(cy.id))
      assert.deepInclude(cyStats, { approvedConfessions: 0, commentsWritten: 2, likesReceived: 1, dislikesReceived: 0 })
      yield* bot.say(ben, "/profile")
      assert.include(bot.lastText(ben.id), "⭐ Impact points: 12")
      yield* bot.say(cy, "/profile")
      assert.include(bot.lastText(cy.id), "⭐ Impact points: 5")

      // Readers see the tombstone in place, with its reply; no reactions on it.
      yield* bot.say(ben, `/comments ${ids.b1}`)
      const view = bot.sent(ben.id).at(-1)
      assert.include(String(view?.body.text), `${Messages.deletedComment}\n↩️ 1 reply`)
      assert.notInclude(String(view?.body.text), "ann-comment")
      const tombstoneRow = (view?.body.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data?: string }>> })
        .inline_keyboard.find((row) => row.some((button) => button.callback_data === CallbackData.toString(CallbackData.Reply({ commentId: ids.c1 }))))
      assert.deepStrictEqual(tombstoneRow?.map((button) => button.text), ["2. 🗑", "💬", "↩️ 1"])
      yield* bot.press(cy, CallbackData.Like({ commentId: ids.c1 }))
      assert.strictEqual(String(bot.fake.callsTo("answerCallbackQuery").at(-1)?.body.text), Messages.commentNotFound)

      // The kept post still takes comments; its forgotten author hears of none.
      const sentBefore = bot.fake.callsTo("sendMessage").length
      yield* bot.comment(cy, ids.a1, "cy-after-forget")
      assert.deepStrictEqual(
        bot.fake.callsTo("sendMessage").slice(sentBefore).map((call) => call.body.chat_id),
        [cy.id, cy.id],
        "the prompt and the confirmation, to cy only"
      )

      // One audit row says someone was forgotten, naming nobody.
      const audit = yield* bot.sql<Record<string, unknown>>`
        select actor_id::int as actor_id, action, subject_kind, subject_id::int as subject_id from audit_log
        where action = 'forget'`
      assert.deepStrictEqual(audit, [{ actorId: 0, action: "forget", subjectKind: "user", subjectId: 0 }])

      // Writing again makes them someone new.
      yield* bot.say(ann, "/profile")
      assert.include(bot.lastText(ann.id), "📝 Approved confessions: 0")
    }))

  live("/forget, deleting posts: both channel posts go, others' comments and counts stay, nothing names the person", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      yield* bot.say(ann, "/start")
      const a1 = yield* bot.confess(ann, "anon-one: gone soon")
      yield* bot.approve(a1)
      const a2 = yield* bot.confess(ann, "named-two: gone soon too", true)
      yield* bot.approve(a2)
      const c4 = yield* bot.comment(cy, a1, "cy-comment-on-ann")
      yield* bot.press(ann, CallbackData.Like({ commentId: c4 }))
      const posts = [yield* bot.channelMessageId(a1), yield* bot.channelMessageId(a2)]

      yield* bot.say(ann, "/forget")
      yield* bot.pressLabel(ann, Messages.forgetDeletePostsLabel)
      assert.strictEqual(String(bot.edits(ann.id).at(-1)?.body.text), Messages.forgotten(true))

      assert.sameMembers(
        bot.fake.callsTo("deleteMessage").filter((call) => call.body.chat_id === channel).map((call) => call.body.message_id),
        posts
      )
      assert.strictEqual(bot.fake.chat(channel).messages.length, 0)
      assert.isFalse(bot.edits(channel).length > 0, "no edit when the posts go")
      const shells = yield* bot.sql<Record<string, unknown>>`
        select status, text, anonymous, author_id from confessions where id in (${a1}, ${a2})`
      assert.deepStrictEqual(shells, [
        { status: "deleted", text: "", anonymous: true, authorId: null },
        { status: "deleted", text: "", anonymous: true, authorId: null }
      ])
      // cy's comment stays (and counts), without ann's like.
      assert.deepInclude(yield* Context.get(bot.app, StatsCache).profileOf(UserId.make(cy.id)), {
        commentsWritten: 1,
        likesReceived: 0
      })
      yield* assertCountersMatchRows(bot.sql)
      assert.deepStrictEqual(yield* searchEverything(bot.sql, annSecrets), [])
    }))

  live("/forget - a named photo's caption becomes Anonymous; /mydata had its file id", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      yield* bot.say(ann, "/confess")
      // The emulator's file ids contain the sender's id; Telegram's are opaque, so this one is made opaque too.
      const sent = message(ann, { kind: "photo", caption: "our secret garden" })
      const photo = JSON.parse(JSON.stringify(sent).replaceAll(`-${ann.id}-`, "-opaque-")) as Update
      yield* bot.send(photo)
      yield* bot.press(ann, CallbackData.PreviewToggleAnonymous(), 500)
      yield* bot.press(ann, CallbackData.PreviewSubmit(), 500)
      const [row] = yield* bot.sql<{ id: number }>`select id::int as id from confessions where author_id = ${ann.id}`
      const id = ConfessionId.make(row?.id ?? 0)
      yield* bot.approve(id)
      const post = yield* bot.channelMessageId(id)
      const fileId = `photo-opaque-${photo.update_id}`
      assert.include(String(bot.fake.callsTo("sendPhoto").find((call) => call.body.chat_id === channel)?.body.caption), "Zelinda")

      yield* bot.say(ann, "/mydata")
      const raw = bot.fake.callsTo("sendDocument").at(-1)?.files[0]?.content.toString("utf8") ?? ""
      const doc = JSON.parse(raw) as { confessions: Array<{ media: unknown; text: string }> }
      assert.deepStrictEqual(doc.confessions.map((c) => [c.text, c.media]), [
        ["our secret garden", { kind: "photo", fileId, durationSeconds: null }]
      ])

      yield* bot.say(ann, "/forget")
      yield* bot.pressLabel(ann, Messages.forgetKeepPostsLabel)
      const edit = bot.fake.callsTo("editMessageCaption").find((call) => call.body.chat_id === channel)
      assert.deepStrictEqual(
        [edit?.body.message_id, edit?.body.caption],
        [post, `<b>#${id}</b>\n\nour secret garden\n\n— Anonymous`]
      )
      assert.deepStrictEqual(yield* searchEverything(bot.sql, annSecrets), [])
      // The photo stays the post's; only its author line changed.
      const [kept] = yield* bot.sql<{ mediaFileId: string; authorId: number | null }>`
        select media_file_id, author_id from confessions where id = ${id}`
      assert.deepStrictEqual(kept, { mediaFileId: fileId, authorId: null })
    }))

  live("/forget - cancel erases nothing; admins and blocked accounts are refused", () =>
    Effect.gen(function* () {
      const bot = yield* launch()
      const a1 = yield* bot.confess(ann, "anon-one: I stay")
      yield* bot.approve(a1)
      yield* bot.say(ann, "/forget")
      const question = yield* bot.pressLabel(ann, Messages.forgetCancelLabel)
      const edit = bot.edits(ann.id).at(-1)
      assert.deepStrictEqual([edit?.body.message_id, edit?.body.text], [question, Messages.forgetCancelled])
      assert.isTrue(Option.isSome(yield* Context.get(bot.app, Users).get(UserId.make(ann.id))))
      const [row] = yield* bot.sql<{ authorId: number }>`select author_id::int as author_id from confessions where id = ${a1}`
      assert.strictEqual(row?.authorId, ann.id)

      yield* bot.say(bea, "/forget")
      assert.strictEqual(bot.lastText(bea.id), Messages.forgetAdmin)
      yield* bot.press(bea, CallbackData.ForgetKeepPosts())
      assert.strictEqual(String(bot.fake.callsTo("answerCallbackQuery").at(-1)?.body.text), Messages.forgetAdmin)
      assert.isTrue(Option.isSome(yield* Context.get(bot.app, Users).get(UserId.make(bea.id))))

      yield* bot.say(bea, `/block c${a1}`)
      yield* bot.say(ann, "/forget")
      assert.strictEqual(bot.lastText(ann.id), Messages.forgetBlocked)
      yield* bot.press(ann, CallbackData.ForgetDeletePosts())
      assert.strictEqual(String(bot.fake.callsTo("answerCallbackQuery").at(-1)?.body.text), Messages.forgetBlocked)
      const [still] = yield* bot.sql<{ n: number }>`select count(*)::int as n from confessions where author_id = ${ann.id}`
      assert.strictEqual(still?.n, 1)
    }))
})
