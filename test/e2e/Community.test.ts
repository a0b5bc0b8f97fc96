// Comments, replies, reactions, reports and feedback end to end: the real app (router, dispatcher, services,
// database) with the community features, driven through the Bot API emulator as Telegram users would.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import type { InlineKeyboardMarkup, Update } from "grammy/types"
import * as CommentsFeature from "../../src/features/Comments.ts"
import * as FeedbackFeature from "../../src/features/Feedback.ts"
import * as MyCommentsFeature from "../../src/features/MyComments.ts"
import * as ReactionsFeature from "../../src/features/Reactions.ts"
import * as ReportsFeature from "../../src/features/Reports.ts"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId, ConfessionId, FeedbackId, UserId } from "../../src/domain/Ids.ts"
import { Comments } from "../../src/services/Comments.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { Users } from "../../src/services/Users.ts"
import { adminsOnly, staleButton } from "../../src/views/Messages.ts"
import { type ApiCall, BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"
import { callback, type Person, person, photo as photoOf, text } from "../../src/emulator/Updates.ts"

const features = Layer.mergeAll(
  CommentsFeature.layer,
  ReactionsFeature.layer,
  ReportsFeature.layer,
  FeedbackFeature.layer,
  MyCommentsFeature.layer
)

const database = TestDatabase.layer()

const bea = person(TestApp.admins.bea, "Bea")
const cal = person(TestApp.admins.cal, "Cal")

/** The app with the community features on a fresh database, and a driver that talks to it as users. */
const start = (env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const fake = yield* BotApiEmulator
    const db = yield* Layer.build(database)
    const app = yield* Layer.build(TestApp.layer({ features, env, database: Layer.succeedContext(db) }))
    return { fake, app, bot: driver(fake) }
  })

type Fake = BotApiEmulator["Service"]

interface Sent {
  readonly text: string
  readonly keyboard: InlineKeyboardMarkup | undefined
  readonly messageId: number | undefined
}

const sentOf = (call: ApiCall): Sent => ({
  text: String(call.body.text ?? ""),
  keyboard: call.body.reply_markup as InlineKeyboardMarkup | undefined,
  messageId: typeof call.body.message_id === "number" ? call.body.message_id : undefined
})

const driver = (fake: Fake) => {
  /** The first call from `mark` on that satisfies `predicate`, waiting (real time) for it. */
  const next = (mark: number, predicate: (call: ApiCall) => boolean) =>
    Effect.map(
      fake.waitUntil(() => fake.calls.slice(mark).some(predicate)),
      () => fake.calls.slice(mark).find(predicate) as ApiCall
    )
  const to = (method: string, chatId: number, includes = "") => (call: ApiCall) =>
    call.method === method && call.body.chat_id === chatId && String(call.body.text ?? "").includes(includes)

  return {
    next,
    /** `who` sends `body`; returns the bot's first message to them (containing `includes`) after it. */
    say: (who: Person, body: string, includes = "") =>
      Effect.gen(function* () {
        const mark = fake.calls.length
        fake.push(text(who, body))
        return sentOf(yield* next(mark, to("sendMessage", who.id, includes)))
      }),
    /** `who` presses a button (callback data, forged or not) on message `messageId`; returns the toast and a mark. */
    press: (who: Person, data: CallbackData.CallbackData | string, messageId = 1, keyboard?: InlineKeyboardMarkup) =>
      Effect.gen(function* () {
        const mark = fake.calls.length
        const update = callback(who, typeof data === "string" ? data : CallbackData.toString(data), messageId)
        fake.push(keyboard === undefined ? update : withKeyboard(update, keyboard))
        const answer = yield* next(
          mark,
          (call) => call.method === "answerCallbackQuery" && call.body.callback_query_id === update.callback_query?.id
        )
        return { toast: answer.body.text === undefined ? undefined : String(answer.body.text), mark }
      }),
    /** The first message sent to `chatId` (containing `includes`) from `mark` on. */
    sentTo: (mark: number, chatId: number, includes = "") => Effect.map(next(mark, to("sendMessage", chatId, includes)), sentOf),
    /** The first edit in `chatId` (containing `includes`) from `mark` on. */
    editedIn: (mark: number, chatId: number, includes = "") =>
      Effect.map(next(mark, to("editMessageText", chatId, includes)), sentOf),
    mark: () => fake.calls.length
  }
}

const withKeyboard = (update: Update, keyboard: InlineKeyboardMarkup): Update => {
  const query = update.callback_query
  if (query?.message === undefined) return update
  return { ...update, callback_query: { ...query, message: { ...query.message, reply_markup: keyboard } } } as Update
}

/** Every callback action on a keyboard, decoded. */
const actionsOf = (keyboard: InlineKeyboardMarkup | undefined): Array<CallbackData.CallbackData> =>
  (keyboard?.inline_keyboard ?? [])
    .flat()
    .flatMap((key) => ("callback_data" in key ? Option.toArray(CallbackData.fromString(key.callback_data)) : []))

const labelsOf = (keyboard: InlineKeyboardMarkup | undefined): Array<string> =>
  (keyboard?.inline_keyboard ?? []).flat().map((key) => key.text)

/** The comment ids shown on a comments (or replies) view, in order, read from its 👍 buttons. */
const commentIdsOn = (keyboard: InlineKeyboardMarkup | undefined): Array<CommentId> =>
  actionsOf(keyboard).flatMap((action) => (action._tag === "Like" ? [action.commentId] : []))

/** An approved (or otherwise) confession written straight into the database, as the moderation flow would leave it. */
const confession = (app: Context.Context<SqlClient.SqlClient | Users>, author: Person, status = "approved") =>
  Effect.gen(function* () {
    const users = Context.get(app, Users)
    const sql = Context.get(app, SqlClient.SqlClient)
    yield* users.register({ id: UserId.make(author.id), firstName: author.first_name, lastName: undefined, username: author.username })
    const [row] = yield* sql<{ id: number }>`
      insert into confessions (author_id, text, anonymous, status)
      values (${author.id}, ${"I secretly love 8 am lectures"}, true, ${status})
      returning id::int as id`
    return ConfessionId.make(row?.id ?? 0)
  })

const reactionCounts = (app: Context.Context<SqlClient.SqlClient>, commentId: CommentId) =>
  Effect.gen(function* () {
    const sql = Context.get(app, SqlClient.SqlClient)
    const [row] = yield* sql<{ likes: number; dislikes: number; likeRows: number; dislikeRows: number }>`
      select likes, dislikes,
        (select count(*)::int from reactions where comment_id = c.id and kind = 'like') as like_rows,
        (select count(*)::int from reactions where comment_id = c.id and kind = 'dislike') as dislike_rows
      from comments c where id = ${commentId}`
    assert.isDefined(row)
    assert.strictEqual(row?.likes, row?.likeRows, "likes counter = like rows")
    assert.strictEqual(row?.dislikes, row?.dislikeRows, "dislikes counter = dislike rows")
    return { likes: row?.likes ?? -1, dislikes: row?.dislikes ?? -1 }
  })

describe("Community", () => {
  it.live("comment, reply, like/dislike toggle and switch; the commenter's profile numbers follow", () =>
    Effect.gen(function* () {
      const { app, bot, fake } = yield* start()
      const stats = Context.get(app, StatsCache)
      const ana = person(810_000_001, "Ana")
      const ben = person(810_000_002, "Ben")
      const cy = person(810_000_003, "Cy")
      const id = yield* confession(app, ana)

      const empty = yield* bot.say(ben, `/comments ${id}`)
      assert.include(empty.text, `Comments on confession #${id}`)
      assert.include(empty.text, "I secretly love 8 am lectures")
      assert.include(empty.text, "No comments yet")

      // ➕ Add comment → the prompt → the comment; the confession's author hears about it.
      const add = yield* bot.press(ben, CallbackData.AddComment({ confessionId: id }))
      assert.isUndefined(add.toast)
      assert.include((yield* bot.sentTo(add.mark, ben.id)).text, `Send your comment on confession #${id}`)
      const mark = bot.mark()
      const posted = yield* bot.say(ben, "  Same here!  ")
      assert.strictEqual(posted.text, `✅ Your comment on confession #${id} is posted.`)
      const notice = yield* bot.sentTo(mark, ana.id)
      assert.strictEqual(notice.text, `💬 Someone commented on your confession #${id}`)

      // The author comments on their own confession with /comment: tagged, and no notice to themselves.
      yield* bot.say(ana, `/comment ${id}`, "Send your comment")
      yield* bot.say(ana, "Glad I'm not alone", "is posted")
      const view = yield* bot.say(ben, `/comments #${id}`)
      assert.include(view.text, "<b>1.</b> ✍️ <i>author</i>\nGlad I'm not alone")
      assert.include(view.text, "<b>2.</b>\nSame here!")
      const [anaComment, benComment] = commentIdsOn(view.keyboard)
      assert.isDefined(benComment)
      assert.isDefined(anaComment)
      if (benComment === undefined || anaComment === undefined) return

      // 💬 reply under Ben's comment.
      const replyPress = yield* bot.press(cy, CallbackData.Reply({ commentId: benComment }))
      assert.include((yield* bot.sentTo(replyPress.mark, cy.id)).text, "Send your reply to this comment")
      const replied = yield* bot.say(cy, "Me too, honestly")
      assert.strictEqual(replied.text, "✅ Your reply is posted.")
      const withReply = yield* bot.say(cy, `/comments ${id}`)
      assert.include(withReply.text, "Same here!\n↩️ 1 reply")
      assert.include(labelsOf(withReply.keyboard), "↩️ 1")
      const replies = yield* bot.press(cy, CallbackData.RepliesPage({ commentId: benComment, page: 1 }), 77)
      const repliesView = yield* bot.editedIn(replies.mark, cy.id)
      assert.strictEqual(repliesView.messageId, 77)
      assert.include(repliesView.text, "Me too, honestly")

      // 👍 / 👎: toggle, remove, switch; the counts on the pressed view change in place. These presses carry no
      // keyboard, so the page is re-read and re-rendered (the fallback; the paging test covers the keyboard rewrite).
      const like = yield* bot.press(cy, CallbackData.Like({ commentId: benComment }), 55)
      assert.strictEqual(like.toast, "👍 Liked")
      const refreshed = yield* bot.editedIn(like.mark, cy.id)
      assert.strictEqual(refreshed.messageId, 55)
      assert.include(labelsOf(refreshed.keyboard), "2. 👍 1")
      assert.deepStrictEqual(yield* reactionCounts(app, benComment), { likes: 1, dislikes: 0 })
      assert.strictEqual((yield* stats.profileOf(UserId.make(ben.id))).likesReceived, 1)

      assert.strictEqual((yield* bot.press(cy, CallbackData.Like({ commentId: benComment }))).toast, "Like removed")
      assert.deepStrictEqual(yield* reactionCounts(app, benComment), { likes: 0, dislikes: 0 })
      assert.strictEqual((yield* bot.press(cy, CallbackData.Dislike({ commentId: benComment }))).toast, "👎 Disliked")
      assert.deepStrictEqual(yield* reactionCounts(app, benComment), { likes: 0, dislikes: 1 })
      const switched = yield* bot.press(cy, CallbackData.Like({ commentId: benComment }), 56)
      assert.strictEqual(switched.toast, "👍 Liked")
      assert.include(labelsOf((yield* bot.editedIn(switched.mark, cy.id)).keyboard), "👎 0")
      assert.deepStrictEqual(yield* reactionCounts(app, benComment), { likes: 1, dislikes: 0 })
      yield* bot.press(ana, CallbackData.Dislike({ commentId: benComment }))

      // Ben's numbers: one comment, one like, one dislike — straight after the presses, not after the cache TTL.
      const profile = yield* stats.profileOf(UserId.make(ben.id))
      assert.deepStrictEqual(
        [profile.commentsWritten, profile.likesReceived, profile.dislikesReceived],
        [1, 1, 1]
      )
      assert.strictEqual((yield* stats.profileOf(UserId.make(cy.id))).commentsWritten, 1, "a reply counts as a comment")

      // "My comments" lists Ben's comment with its confession, from the command and from the profile's button.
      const mine = yield* bot.say(ben, "/mycomments")
      assert.include(mine.text, `on confession #${id}`)
      assert.include(mine.text, "Same here!")
      const minePage = yield* bot.press(ben, CallbackData.MyCommentsPage({ page: 1 }), 91)
      assert.strictEqual((yield* bot.editedIn(minePage.mark, ben.id, "My comments")).messageId, 91)

      // Ana was told twice, about Ben's comment and Cy's reply, never about her own comment; Ben about Cy's reply.
      const notices = fake.callsTo("sendMessage").filter((call) => call.body.chat_id === ana.id && String(call.body.text).includes("Someone commented"))
      assert.strictEqual(notices.length, 2)
      const replyNotices = fake.callsTo("sendMessage").filter((call) => call.body.chat_id === ben.id && String(call.body.text).includes("Someone replied"))
      assert.strictEqual(replyNotices.length, 1)
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("report to the threshold → every admin alerted → hide → gone from the view, numbers follow; keep is too late", () =>
    Effect.gen(function* () {
      const { app, bot, fake } = yield* start()
      const stats = Context.get(app, StatsCache)
      const sql = Context.get(app, SqlClient.SqlClient)
      const author = person(820_000_001, "Ola")
      const dan = person(820_000_002, "Dan")
      const reporters = [person(820_000_011, "R1"), person(820_000_012, "R2"), person(820_000_013, "R3")]
      const id = yield* confession(app, author)
      yield* bot.say(dan, `/comment ${id}`, "Send your comment")
      yield* bot.say(dan, "something rude", "is posted")
      const [commentId] = commentIdsOn((yield* bot.say(dan, `/comments ${id}`)).keyboard)
      if (commentId === undefined) return assert.fail("the comment is on the view")
      assert.strictEqual((yield* stats.profileOf(UserId.make(dan.id))).commentsWritten, 1)

      const [first, second, third] = reporters
      if (first === undefined || second === undefined || third === undefined) return
      const report = CallbackData.Report({ commentId })
      assert.strictEqual((yield* bot.press(first, report)).toast, "⚠️ Reported. Thank you, the admins will take a look.")
      assert.strictEqual((yield* bot.press(first, report)).toast, "You have already reported this comment.")
      yield* bot.press(second, report)
      assert.strictEqual(fake.callsTo("sendMessage").filter((call) => String(call.body.text).includes("Reported comment")).length, 0)
      const last = yield* bot.press(third, report)
      for (const admin of [bea, cal]) {
        const alert = yield* bot.sentTo(last.mark, admin.id, "Reported comment")
        assert.include(alert.text, `Reported comment #${commentId}</b> on confession #${id} (3 reports)`)
        assert.include(alert.text, "something rude")
        assert.notInclude(alert.text, "Dan")
        assert.deepStrictEqual(labelsOf(alert.keyboard), ["🙈 Hide", "✔️ Keep"])
      }

      // A non-admin cannot decide; the first admin hides it and every admin's copy shows the outcome.
      assert.strictEqual((yield* bot.press(dan, CallbackData.HideComment({ commentId }))).toast, adminsOnly)
      const [copy] = yield* sql<{ messageId: number }>`
        select result_message_id::int as message_id from outbox
        where topic = ${`comment:${commentId}`} and kind = 'admin_notice' and call::json ->> 'chatId' = ${String(bea.id)}`
      const hide = yield* bot.press(bea, CallbackData.HideComment({ commentId }), copy?.messageId ?? 1)
      assert.strictEqual(hide.toast, "🙈 Hidden: it no longer appears anywhere.")
      for (const admin of [bea, cal]) {
        const edited = yield* bot.editedIn(hide.mark, admin.id, "Hidden")
        // An edit without a keyboard drops the buttons.
        assert.isUndefined(edited.keyboard)
      }
      assert.strictEqual((yield* bot.editedIn(hide.mark, bea.id, "Hidden")).messageId, copy?.messageId)
      const late = yield* bot.press(cal, CallbackData.KeepComment({ commentId }))
      assert.strictEqual(late.toast, "Already decided: the comment is hidden.")

      const after = yield* bot.say(dan, `/comments ${id}`)
      assert.notInclude(after.text, "something rude")
      assert.include(after.text, "No comments yet")
      assert.strictEqual((yield* stats.profileOf(UserId.make(dan.id))).commentsWritten, 0)
      assert.strictEqual((yield* bot.press(first, CallbackData.Like({ commentId }))).toast, "😕 That comment is no longer available.")

      // Blocked users are told so when they react or comment.
      yield* Context.get(app, Users).setBlocked(UserId.make(first.id), true)
      yield* bot.say(dan, `/comment ${id}`, "Send your comment")
      yield* bot.say(dan, "a fresh one", "is posted")
      const fresh = commentIdsOn((yield* bot.say(dan, `/comments ${id}`)).keyboard)[0]
      if (fresh === undefined) return assert.fail("the new comment is on the view")
      assert.strictEqual(
        (yield* bot.press(first, CallbackData.Like({ commentId: fresh }))).toast,
        "🚫 You have been blocked by the moderators, so you can't confess, comment or react."
      )
      assert.strictEqual(
        (yield* bot.say(first, `/comment ${id}`)).text,
        "🚫 You have been blocked by the moderators, so you can't confess, comment or react."
      )
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("500 users liking one comment at once make 500 likes; one user pressing 👍 20 times at once ends at 0 or 1", () =>
    Effect.gen(function* () {
      const { app, bot, fake } = yield* start()
      const author = person(830_000_001, "Pia")
      const id = yield* confession(app, author)
      yield* bot.say(author, `/comment ${id}`, "Send your comment")
      yield* bot.say(author, "popular opinion", "is posted")
      const [commentId] = commentIdsOn((yield* bot.say(author, `/comments ${id}`)).keyboard)
      if (commentId === undefined) return assert.fail("the comment is on the view")
      const like = CallbackData.toString(CallbackData.Like({ commentId }))

      const crowd = Array.from({ length: 500 }, (_, index) => callback(person(831_000_000 + index, `Fan${index}`), like))
      const ids = new Set(crowd.map((update) => update.callback_query?.id))
      fake.push(...crowd)
      yield* fake.waitUntil(
        () => fake.calls.filter((call) => call.method === "answerCallbackQuery" && ids.has(String(call.body.callback_query_id))).length === 500
      )
      assert.deepStrictEqual(yield* reactionCounts(app, commentId), { likes: 500, dislikes: 0 })
      const toasts = fake.calls.filter((call) => call.method === "answerCallbackQuery" && ids.has(String(call.body.callback_query_id)))
      assert.isTrue(toasts.every((call) => call.body.text === "👍 Liked"))

      const masher = person(832_000_001, "Max")
      const presses = Array.from({ length: 20 }, () => callback(masher, like))
      const pressIds = new Set(presses.map((update) => update.callback_query?.id))
      fake.push(...presses)
      yield* fake.waitUntil(
        () => fake.calls.filter((call) => call.method === "answerCallbackQuery" && pressIds.has(String(call.body.callback_query_id))).length === 20
      )
      const sql = Context.get(app, SqlClient.SqlClient)
      const [mine] = yield* sql<{ n: number }>`
        select count(*)::int as n from reactions where comment_id = ${commentId} and user_id = ${masher.id}`
      assert.include([0, 1], mine?.n)
      assert.deepStrictEqual(yield* reactionCounts(app, commentId), { likes: 500 + (mine?.n ?? 0), dislikes: 0 })
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 180_000 })

  it.live("anonymity - a session of 20 users never puts a commenter's name, username or id into anyone else's request", () =>
    Effect.gen(function* () {
      const { app, bot, fake } = yield* start()
      const users = Array.from({ length: 20 }, (_, index) => {
        const n = String(index + 1).padStart(2, "0")
        return person(840_000_100 + index, `Qwz${n}Name`, `qwz_user_${n}`)
      })
      const [author] = users
      if (author === undefined) return
      const id = yield* confession(app, author)
      // Everyone comments (the author too), the comment ids are read from the view, then everyone likes, dislikes,
      // replies and reports; three reports reach the threshold and an admin hides that comment.
      for (const user of users) {
        const add = yield* bot.press(user, CallbackData.AddComment({ confessionId: id }))
        yield* bot.sentTo(add.mark, user.id, "Send your comment")
        yield* bot.say(user, `comment number ${user.first_name.length}`, "is posted")
      }
      const view = yield* bot.say(users[1] ?? author, `/comments ${id}`)
      const firstPage = commentIdsOn(view.keyboard)
      assert.isAtLeast(firstPage.length, 1)
      const target = firstPage[0]
      if (target === undefined) return
      for (const [index, user] of users.entries()) {
        const commentId = firstPage[index % firstPage.length] ?? target
        yield* bot.press(user, CallbackData.Like({ commentId }), 100 + index)
        yield* bot.press(user, CallbackData.Dislike({ commentId: target }), 100 + index)
        const reply = yield* bot.press(user, CallbackData.Reply({ commentId }))
        yield* bot.sentTo(reply.mark, user.id, "Send your reply")
        yield* bot.say(user, "a reply", "is posted")
        yield* bot.press(user, CallbackData.RepliesPage({ commentId, page: 1 }), 200 + index)
        yield* bot.say(user, "/mycomments", "My comments")
        if (index < 3) yield* bot.press(user, CallbackData.Report({ commentId: target }))
      }
      const alert = yield* bot.sentTo(0, bea.id, "Reported comment")
      assert.include(alert.text, `#${target}`)
      const hide = yield* bot.press(bea, CallbackData.HideComment({ commentId: target }))
      yield* bot.editedIn(hide.mark, cal.id, "Hidden")
      yield* bot.say(users[2] ?? author, `/comments ${id}`)

      assert.isAbove(fake.calls.length, 300)
      for (const user of users) {
        const identity = [user.first_name, user.username ?? "", String(user.id)]
        for (const call of fake.calls) {
          if (call.body.chat_id === user.id) continue
          for (const token of identity) {
            assert.notInclude(call.raw, token, `${call.method} to ${String(call.body.chat_id)} reveals ${token}`)
          }
        }
      }
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 180_000 })

  it.live("paging - 23 comments make 5 pages; paging edits in place; forged pages clamp; forged input gets a short answer", () =>
    Effect.gen(function* () {
      const { app, bot, fake } = yield* start()
      const comments = Context.get(app, Comments)
      const users = Context.get(app, Users)
      const eve = person(850_000_001, "Eve")
      const id = yield* confession(app, eve)
      const writer = yield* users.register({ id: UserId.make(850_000_002), firstName: "W", lastName: undefined, username: undefined })
      for (let n = 1; n <= 23; n++) yield* comments.add({ confessionId: id, author: writer, text: `comment ${n}` })

      const first = yield* bot.say(eve, `/start c${id}`)
      assert.include(first.text, "Page 1 of 5 · 23 comments")
      assert.include(first.text, "<b>1.</b>\ncomment 23")
      assert.deepStrictEqual(labelsOf(first.keyboard).slice(-3), ["1/5", "➡️", "➕ Add comment"])

      const forward = yield* bot.press(eve, CallbackData.CommentsPage({ confessionId: id, page: 2 }), 314)
      const second = yield* bot.editedIn(forward.mark, eve.id)
      assert.strictEqual(second.messageId, 314)
      assert.include(second.text, "Page 2 of 5")
      assert.include(second.text, "<b>1.</b>\ncomment 18")

      const forged = yield* bot.press(eve, `1:cp:${id}:9999`, 314)
      const lastPage = yield* bot.editedIn(forged.mark, eve.id)
      assert.include(lastPage.text, "Page 5 of 5")
      assert.strictEqual(commentIdsOn(lastPage.keyboard).length, 3)
      assert.include(lastPage.text, "comment 1")

      // A like pressed on page 3 rewrites that comment's counts in the keyboard the press came with (Telegram sends
      // it along): only the keyboard is edited, the page is neither re-read nor re-rendered.
      const third = yield* bot.press(eve, CallbackData.CommentsPage({ confessionId: id, page: 3 }), 315)
      const page3 = yield* bot.editedIn(third.mark, eve.id)
      const [onPage3] = commentIdsOn(page3.keyboard)
      if (onPage3 === undefined || page3.keyboard === undefined) return assert.fail("page 3 has comments")
      const liked = yield* bot.press(eve, CallbackData.Like({ commentId: onPage3 }), 315, page3.keyboard)
      const counted = sentOf(
        yield* bot.next(liked.mark, (call) => call.method === "editMessageReplyMarkup" && call.body.chat_id === eve.id)
      )
      assert.strictEqual(counted.messageId, 315)
      assert.deepStrictEqual(
        labelsOf(counted.keyboard),
        labelsOf(page3.keyboard).map((label, index) => (index === 0 ? "1. 👍 1" : label))
      )
      assert.deepStrictEqual(actionsOf(counted.keyboard), actionsOf(page3.keyboard))
      assert.isFalse(
        fake.calls.slice(liked.mark).some((call) => call.method === "editMessageText"),
        "no re-render when the keyboard came with the press"
      )

      // Forged or stale callback data: a short answer, nothing else.
      for (const junk of ["garbage", "1:cp:0:1", `1:cp:${id}:0`, "1:lk:-1", "1:lk:1e3", "9:lk:1", `1:cp:${id}`, "1:zz:1", "1:lk:99999999999999999"]) {
        const answer = yield* bot.press(eve, junk)
        assert.strictEqual(answer.toast, staleButton, junk)
      }
      assert.strictEqual(
        (yield* bot.press(eve, CallbackData.Like({ commentId: CommentId.make(987_654_321) }))).toast,
        "😕 That comment is no longer available."
      )
      assert.strictEqual(
        (yield* bot.press(eve, CallbackData.CommentsPage({ confessionId: ConfessionId.make(987_654_321), page: 1 }))).toast,
        "🔍 Confession #987654321 not found."
      )
      assert.strictEqual((yield* bot.press(eve, CallbackData.Noop())).toast, undefined)

      // Unknown, junk, pending and out-of-range ids: "not found", never a crash.
      const pending = yield* confession(app, eve, "pending")
      const deleted = yield* confession(app, eve, "deleted")
      for (const [args, shown] of [
        ["987654321", "987654321"],
        ["abc", "abc"],
        ["0", "0"],
        ["-5", "-5"],
        ["99999999999999999999", "99999999999999999999"],
        ["9".repeat(25), `${"9".repeat(19)}…`],
        [String(pending), String(pending)],
        [String(deleted), String(deleted)],
        ["<b>1</b>", "&lt;b&gt;1&lt;/b&gt;"]
      ] as const) {
        assert.strictEqual((yield* bot.say(eve, `/comments ${args}`)).text, `🔍 Confession #${shown} not found.`)
      }
      assert.strictEqual((yield* bot.say(eve, `/start c${pending}`)).text, `🔍 Confession #${pending} not found.`)
      assert.strictEqual((yield* bot.say(eve, `/comment ${pending}`)).text, `🔍 Confession #${pending} not found.`)
      assert.include((yield* bot.say(eve, "/comments")).text, "/comments 12")
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("comment flow - validation keeps the flow, media gets 'text only', a reply to a reply is refused", () =>
    Effect.gen(function* () {
      const { app, bot, fake } = yield* start({ COMMENT_MAX_LENGTH: "20" })
      const fay = person(860_000_001, "Fay")
      const id = yield* confession(app, fay)
      yield* bot.say(fay, `/comment ${id}`, "up to 20 characters")
      assert.strictEqual(
        (yield* bot.say(fay, "x".repeat(21))).text,
        "✏️ Your comment has 21 characters; the limit is 20. Please shorten it and send it again, or /cancel."
      )
      assert.strictEqual((yield* bot.say(fay, "   ")).text, "✏️ Your comment is empty. Please send some text, or /cancel.")
      const mark = bot.mark()
      fake.push(photoOf(fay))
      assert.strictEqual((yield* bot.sentTo(mark, fay.id)).text, "📝 Text only, please: send your comment as a text message, or /cancel.")
      assert.strictEqual((yield* bot.say(fay, "<b>fine</b> & short")).text, `✅ Your comment on confession #${id} is posted.`)
      const view = yield* bot.say(fay, `/comments ${id}`)
      assert.include(view.text, "&lt;b&gt;fine&lt;/b&gt; &amp; short")
      const [commentId] = commentIdsOn(view.keyboard)
      if (commentId === undefined) return assert.fail("the comment is on the view")
      const reply = yield* bot.press(fay, CallbackData.Reply({ commentId }))
      yield* bot.sentTo(reply.mark, fay.id, "Send your reply")
      yield* bot.say(fay, "a reply", "is posted")
      const replies = yield* bot.press(fay, CallbackData.RepliesPage({ commentId, page: 1 }), 9)
      const [replyId] = commentIdsOn((yield* bot.editedIn(replies.mark, fay.id)).keyboard)
      if (replyId === undefined) return assert.fail("the reply is on the replies view")
      assert.strictEqual(
        (yield* bot.press(fay, CallbackData.Reply({ commentId: replyId }))).toast,
        "↩️ Replies go under top-level comments only."
      )
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })

  it.live("feedback - submitted → admins notified without the sender → answered through the bot → listed → resolved in place", () =>
    Effect.gen(function* () {
      const { bot } = yield* start()
      const gus = person(870_000_001, "Gus")
      assert.include((yield* bot.say(gus, "/feedback")).text, "Send your feedback for the admins")
      const mark = bot.mark()
      assert.strictEqual((yield* bot.say(gus, "Please add <dark> mode")).text, "🙏 Thank you! Your feedback reached the admins.")
      const notices = [yield* bot.sentTo(mark, bea.id, "New feedback"), yield* bot.sentTo(mark, cal.id, "New feedback")]
      for (const notice of notices) {
        assert.include(notice.text, "Please add &lt;dark&gt; mode")
        assert.notInclude(notice.text, "Gus")
        assert.notInclude(notice.text, String(gus.id))
      }
      const [resolve, reply] = actionsOf(notices[0]?.keyboard)
      if (resolve === undefined || resolve._tag !== "FeedbackResolve") return assert.fail("a Resolve button")
      if (reply === undefined || reply._tag !== "FeedbackReply") return assert.fail("a Reply button")
      const feedbackId: FeedbackId = resolve.feedbackId

      // Cal answers through the bot: Gus gets the answer, never who wrote it; Cal is told it goes out.
      yield* bot.press(cal, reply)
      const answered = bot.mark()
      assert.strictEqual(
        (yield* bot.say(cal, "Dark <mode> is coming next month")).text,
        `📨 Your answer to feedback #${feedbackId} will be passed on.`
      )
      const relayed = yield* bot.sentTo(answered, gus.id, "answered your feedback")
      assert.include(relayed.text, "Dark &lt;mode&gt; is coming next month")
      assert.notInclude(relayed.text, "Cal")
      assert.notInclude(relayed.text, String(cal.id))
      yield* bot.say(gus, "/feedback also, thanks!", "Thank you")

      assert.strictEqual((yield* bot.say(gus, "/feedbacks")).text, adminsOnly)
      assert.strictEqual((yield* bot.press(gus, resolve)).toast, adminsOnly)
      const list = yield* bot.say(bea, "/feedbacks")
      assert.include(list.text, "Open feedback</b> (2)")
      assert.include(list.text, "Please add &lt;dark&gt; mode")
      assert.include(labelsOf(list.keyboard), `✔️ Resolve #${feedbackId}`)

      const pressed = yield* bot.press(bea, resolve, 4242, list.keyboard)
      assert.strictEqual(pressed.toast, `✔️ Feedback #${feedbackId} resolved.`)
      const relisted = yield* bot.editedIn(pressed.mark, bea.id, "Open feedback")
      assert.strictEqual(relisted.messageId, 4242)
      assert.notInclude(relisted.text, "dark")
      assert.include(relisted.text, "also, thanks!")
      for (const admin of [bea, cal]) yield* bot.editedIn(pressed.mark, admin.id, "✔️ Resolved")
      assert.strictEqual((yield* bot.press(cal, resolve)).toast, `Feedback #${feedbackId} was already resolved.`)
      assert.strictEqual(
        (yield* bot.press(cal, CallbackData.FeedbackResolve({ feedbackId: FeedbackId.make(987_654_321) }))).toast,
        "🔍 Feedback #987654321 not found."
      )
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })
})
