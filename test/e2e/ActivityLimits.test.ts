// Per-user limits on comments and replies, reports and feedback (issue 12, item 9) through the whole app: the
// allowance, the answer that says when to try again, and what a refused action leaves behind: nothing stored, no
// notice to the author, no alert or copy to the admins. Actions refused for other reasons spend nothing.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId } from "../../src/domain/Ids.ts"
import { Empty, TooLong } from "../../src/domain/Validation.ts"
import { person } from "../../src/emulator/Updates.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as Session from "../support/Session.ts"
import * as TestApp from "../support/TestApp.ts"

const bea = person(TestApp.admins.bea, "Bea")
const cal = person(TestApp.admins.cal, "Cal")
const author = person(910_000_001, "Olga")
const writer = person(910_000_002, "Walt")
const other = person(910_000_003, "Otto")
const reporter = person(910_000_004, "Rita")

const env = { COMMENTS_PER_HOUR: "2", REPORTS_PER_HOUR: "1", FEEDBACK_PER_HOUR: "1", REPORT_THRESHOLD: "1" }

const count = (session: Session.Session, query: string) =>
  Effect.map(session.sql.unsafe<{ n: number }>(query), (rows) => rows[0]?.n ?? -1)

describe("ActivityLimits end to end", () => {
  it.live("comments and replies share COMMENTS_PER_HOUR; a refused one is not stored and notifies nobody", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env })
        const id = yield* session.confess(author, "I talk to my plants")
        yield* session.press(bea, CallbackData.Approve({ confessionId: id }))
        const gone = yield* session.confess(author, "This one will be deleted")
        yield* session.press(bea, CallbackData.Approve({ confessionId: gone }))

        // Refused for other reasons first: a text too long (the flow stays), and a confession deleted meanwhile.
        yield* session.say(writer, `/comment ${id}`)
        const tooLong = session.textsTo(yield* session.say(writer, "x".repeat(1001)), writer)
        assert.deepStrictEqual(tooLong, [Messages.textProblem(new TooLong({ length: 1001, maxLength: 1000 }), "comment")])
        yield* session.say(writer, "first")
        yield* session.say(writer, `/comment ${gone}`)
        yield* session.say(bea, `/delete ${gone}`)
        assert.deepStrictEqual(session.textsTo(yield* session.say(writer, "lost"), writer), [Messages.confessionNotFound(gone)])

        // So both of the hour's comments are still there: the second, then a reply, which is refused.
        yield* session.comment(writer, id, "second")
        const [newest, oldest] = yield* session.commentIds(writer, id)
        if (newest === undefined || oldest === undefined) return assert.fail("two comments on the view")
        const refused = yield* session.reply(writer, oldest, "third, as a reply")
        assert.deepStrictEqual(session.textsTo(refused, writer), [
          "⏳ You can write 2 comments per hour, replies included. Try again in 1 hour."
        ])
        assert.deepStrictEqual(Session.to(refused, author.id), [], "no notice for a refused reply")
        assert.strictEqual(yield* count(session, `select count(*)::int as n from comments where author_id = ${writer.id}`), 2)
        assert.strictEqual(yield* count(session, `select replies as n from comments where id = ${oldest}`), 0)
        const notices = session.fake.calls.filter(
          (call) => call.chatId === author.id && Session.textOf(call).includes("Someone commented")
        )
        assert.strictEqual(notices.length, 2)
        // The flow ended with the refusal; someone else's allowance is untouched.
        assert.deepStrictEqual(session.textsTo(yield* session.say(writer, "hello?"), writer), [Messages.notUnderstood])
        assert.include(session.textsTo(yield* session.comment(other, id, "mine is fine"), other)[0], "is posted")
      })
    ), { timeout: 120_000 })

  it.live("reports: REPORTS_PER_HOUR counts only reports that count; a refused one stores nothing and alerts nobody", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env })
        const id = yield* session.confess(author, "Pineapple belongs on pizza")
        yield* session.press(bea, CallbackData.Approve({ confessionId: id }))
        yield* session.comment(writer, id, "agreed")
        yield* session.comment(other, id, "never")
        const [never, agreed] = yield* session.commentIds(reporter, id)
        if (never === undefined || agreed === undefined) return assert.fail("two comments on the view")

        // A report of a missing comment spends nothing; the first real one counts and (threshold 1) alerts the admins.
        const missing = yield* session.press(reporter, CallbackData.Report({ commentId: CommentId.make(987_654_321) }))
        assert.strictEqual(session.toastOf(missing, reporter), Messages.commentNotFound)
        const first = yield* session.press(reporter, CallbackData.Report({ commentId: agreed }))
        assert.strictEqual(session.toastOf(first, reporter), "⚠️ Reported. Thank you, the admins will take a look.")
        for (const admin of [bea, cal]) assert.include(session.textsTo(first, admin).join(), `Reported comment #${agreed}`)
        // The same report again writes nothing and spends nothing.
        const again = yield* session.press(reporter, CallbackData.Report({ commentId: agreed }))
        assert.strictEqual(session.toastOf(again, reporter), "You have already reported this comment.")

        const refused = yield* session.press(reporter, CallbackData.Report({ commentId: never }))
        assert.strictEqual(session.toastOf(refused, reporter), "⏳ You can report 1 comment per hour. Try again in 1 hour.")
        assert.isTrue(Session.to(refused, reporter.id).some((call) => call.body.show_alert === true), "shown as an alert")
        for (const admin of [bea, cal]) assert.deepStrictEqual(session.textsTo(refused, admin), [])
        assert.strictEqual(yield* count(session, `select count(*)::int as n from reports where comment_id = ${never}`), 0)
        assert.strictEqual(yield* count(session, `select reports as n from comments where id = ${never}`), 0)
      })
    ), { timeout: 120_000 })

  it.live("feedback: FEEDBACK_PER_HOUR; an empty one spends nothing; a refused one reaches no admin and is not stored", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env })
        yield* session.say(writer, "/feedback")
        const empty = yield* session.say(writer, "   ")
        assert.deepStrictEqual(session.textsTo(empty, writer), [Messages.textProblem(new Empty(), "feedback")])
        const sent = yield* session.say(writer, "Please add dark mode")
        assert.deepStrictEqual(session.textsTo(sent, writer), [Messages.feedbackThanks])
        for (const admin of [bea, cal]) assert.include(session.textsTo(sent, admin).join(), "Please add dark mode")

        const refused = yield* session.say(writer, "/feedback and another thing")
        assert.deepStrictEqual(session.textsTo(refused, writer), [
          "⏳ You can send 1 feedback message per hour. Try again in 1 hour."
        ])
        for (const admin of [bea, cal]) assert.deepStrictEqual(session.textsTo(refused, admin), [])
        assert.strictEqual(yield* count(session, `select count(*)::int as n from feedback where author_id = ${writer.id}`), 1)
        // Through the flow too, and the flow ends with the refusal.
        yield* session.say(writer, "/feedback")
        assert.deepStrictEqual(session.textsTo(yield* session.say(writer, "one more"), writer), [
          "⏳ You can send 1 feedback message per hour. Try again in 1 hour."
        ])
        assert.deepStrictEqual(session.textsTo(yield* session.say(writer, "hello?"), writer), [Messages.notUnderstood])
        // Another user's feedback still goes through.
        assert.deepStrictEqual(session.textsTo(yield* session.say(other, "/feedback hi admins"), other), [Messages.feedbackThanks])
      })
    ), { timeout: 120_000 })
})
