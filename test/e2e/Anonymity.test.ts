// The anonymity suite (issue 12): the whole app, driven through the Bot API emulator by many people with distinctive
// names, usernames and ids, so that "never shows X" can be checked by searching for them.
// - A scripted session through every flow, then a scan of every request body the emulator recorded (texts, captions,
//   keyboards, callback data, URL buttons: the raw JSON) and of every log line at info level and above: no anonymous
//   author's or commenter's id, username or names appear outside that person's own chat. The one allowed appearance
//   is a named confession's author line (first name and @username) on that confession's channel post and on the
//   admins' copy of it, which shows what the channel will show.
// - The oracle: two worlds run the same admin script, where two items have the same author in one and different
//   authors in the other; every byte sent to the admin is the same in both.
// - Forged buttons on unpublished or deleted content answer "not found" and quote nothing.
// - Hostile input (NUL, lone surrogates, 10,000-character names and texts, RTL and zero-width characters) in the same
//   batches as ordinary users: polling keeps going and everyone is answered.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Update } from "grammy/types"
import { TestConsole } from "effect/testing"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { type CommentId, ConfessionId } from "../../src/domain/Ids.ts"
import type { ApiCall } from "../../src/emulator/BotApiEmulator.ts"
import * as TelegramHtml from "../../src/emulator/TelegramHtml.ts"
import { callback, type Person, text } from "../../src/emulator/Updates.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as Session from "../support/Session.ts"

// ---- people -------------------------------------------------------------------------------------------------------

const someone = (id: number, first_name: string, last_name: string, username: string): Person => ({
  id,
  first_name,
  last_name,
  username
})

/** Anonymous confessor; also comments, gets blocked, appeals through feedback. */
const zephyrine = someone(5_829_163_047, "Zephyrine", "Quillfeather", "zeph_secret_77")
/** One named confession (the allowed appearance), one anonymous confession; also comments. */
const bartholomew = someone(5_837_204_918, "Bartholomew", "Nightjar", "bart_named_42")
const ysolde = someone(5_846_381_725, "Ysolde", "Marchbank", "ysolde_q9")
const thaddeus = someone(5_851_937_264, "Thaddeus", "Wrenfield", "thad_w_31")
const ottoline = someone(5_863_029_471, "Ottoline", "Brackwater", "otto_b_58")
const marisol = someone(5_874_150_396, "Marisol", "Quenby", "mari_fb_63")
const perpetua = someone(5_881_726_354, "Perpetua", "Holloway", "perp_h_14")
const protectedPeople = [zephyrine, bartholomew, ysolde, thaddeus, ottoline, marisol, perpetua]

/** Admins with names of their own: a relayed answer to feedback must not name them either. */
const beatrix = someone(5_890_011_223, "Beatrix", "Admiralty", "bea_admin_secret")
const calloway = someone(5_890_044_556, "Calloway", "Overseer", "cal_admin_secret")
const admins = [beatrix, calloway]
const adminEnv = { ADMIN_IDS: `${beatrix.id},${calloway.id}`, REPORT_THRESHOLD: "3" }

const identity = (who: Person): Array<string> =>
  [String(who.id), who.first_name, who.last_name ?? "", who.username ?? ""].filter((token) => token !== "")

/** The first press of a button with `tag` on the keyboards of these calls. */
const actionOn = <K extends CallbackData.Tag>(calls: ReadonlyArray<ApiCall>, tag: K) =>
  calls.flatMap((call) => Session.actionsOf(call.body.reply_markup)).find((a): a is CallbackData.Of<K> => a._tag === tag)

// ---- the scan -----------------------------------------------------------------------------------------------------

interface Leak {
  readonly who: string
  readonly token: string
  readonly where: string
}

/**
 * Every appearance of a protected person's identity outside their own chat. `allowed` says whether a call may show
 * a token (the named confession's author line).
 */
const leaksIn = (
  calls: ReadonlyArray<ApiCall>,
  people: ReadonlyArray<Person>,
  allowed: (who: Person, token: string, call: ApiCall) => boolean = () => false
): Array<Leak> =>
  calls.flatMap((call) =>
    people.flatMap((who) =>
      call.chatId === who.id
        ? []
        : identity(who)
            .filter((token) => call.raw.includes(token) && !allowed(who, token, call))
            .map((token) => ({ who: who.first_name, token, where: `${call.method} to ${String(call.chatId)}: ${call.raw.slice(0, 300)}` }))
    )
  )

describe("Anonymity suite", () => {
  it.live("a session of many users through every flow reveals nobody in any request body or log line", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env: { ...adminEnv, LOG_LEVEL: "info", LOG_FORMAT: "json" } })
        const { say, press, confess, comment, reply, commentIds, textsTo, toastOf } = session
        const [bea, cal] = [beatrix, calloway]

        for (const who of [...protectedPeople, ...admins]) yield* say(who, "/start")

        // Confessions: anonymous, named, anonymous by the named author, and one to reject with a reason.
        const anonymous = yield* confess(zephyrine, "I have never once read the syllabus")
        const named = yield* confess(bartholomew, "I am the one who rearranged the library chairs", { named: true })
        const alsoAnonymous = yield* confess(bartholomew, "I eat cereal with orange juice")
        const rejected = yield* confess(zephyrine, "Something the moderators will not like")
        const pending = yield* say(bea, "/pending")
        assert.include(textsTo(pending, bea).join(), `#${anonymous}`)
        for (const id of [anonymous, named, alsoAnonymous]) yield* press(bea, CallbackData.Approve({ confessionId: id }))
        yield* press(cal, CallbackData.Reject({ confessionId: rejected }))
        yield* say(cal, "Please keep it kind")
        const channelPosts = session.fake.calls.filter((call) => call.chatId === Session.channel && call.method === "sendMessage")
        assert.strictEqual(channelPosts.length, 3)
        const namedPost = channelPosts.find((call) => Session.textOf(call).startsWith(`<b>#${named}</b>`))
        if (namedPost === undefined) return assert.fail("the named confession is posted")
        assert.include(Session.textOf(namedPost), "— Bartholomew @bart_named_42")

        // Comments, the author's own comment (tagged), replies, deep links, reactions.
        yield* say(ysolde, `/start c${anonymous}`)
        yield* comment(ysolde, anonymous, "Nobody reads it, honestly")
        yield* comment(thaddeus, anonymous, "Something rude that will be hidden")
        yield* comment(zephyrine, anonymous, "Thanks for the company")
        yield* comment(ottoline, named, "Bold of you to sign this")
        yield* comment(bartholomew, named, "No regrets")
        yield* comment(perpetua, alsoAnonymous, "Delete this immediately")
        const [own, rude, first] = yield* commentIds(ysolde, anonymous)
        const [onNamed] = yield* commentIds(ottoline, named)
        if (own === undefined || rude === undefined || first === undefined || onNamed === undefined) {
          return assert.fail("the comments are on the views")
        }
        yield* reply(perpetua, first, "Same, every semester")
        yield* reply(zephyrine, first, "Glad it's not just me")
        yield* reply(ottoline, onNamed, "Indeed")
        yield* press(ottoline, CallbackData.RepliesPage({ commentId: first, page: 1 }), 77)
        for (const who of [ysolde, ottoline, perpetua, marisol]) {
          yield* press(who, CallbackData.Like({ commentId: first }), 42)
          yield* press(who, CallbackData.Dislike({ commentId: own }), 42)
        }
        yield* press(ysolde, CallbackData.Like({ commentId: first }), 42)

        // Reports to the threshold on two comments: one hidden, one kept; /reports in between.
        for (const who of [ysolde, ottoline, perpetua]) yield* press(who, CallbackData.Report({ commentId: rude }))
        for (const who of [thaddeus, marisol, perpetua]) yield* press(who, CallbackData.Report({ commentId: onNamed }))
        const reports = yield* say(cal, "/reports")
        assert.include(textsTo(reports, cal).join(), `#${rude}`)
        assert.include(toastOf(yield* press(bea, CallbackData.HideComment({ commentId: rude })), bea) ?? "", "Hidden")
        assert.include(toastOf(yield* press(cal, CallbackData.KeepComment({ commentId: onNamed })), cal) ?? "", "Kept")

        // Block and unblock by content; the blocked author is refused, and appeals through feedback.
        yield* say(bea, `/block c${anonymous}`)
        yield* say(bea, `/block m${first}`)
        assert.deepStrictEqual(textsTo(yield* say(zephyrine, `/comment ${named}`), zephyrine), [Messages.blocked])
        yield* say(zephyrine, "/feedback I think I was blocked by mistake")
        yield* say(bea, `/unblock c${anonymous}`)
        yield* say(bea, `/unblock m${first}`)

        // Feedback: submitted, answered through the relay, listed, resolved.
        yield* say(marisol, "/feedback")
        const feedback = yield* say(marisol, "Could the bot support dark mode?")
        const answer = actionOn(Session.to(feedback, bea.id), "FeedbackReply")
        const resolve = actionOn(Session.to(feedback, cal.id), "FeedbackResolve")
        if (answer === undefined || resolve === undefined) return assert.fail("the admins' copy has ↩️ Reply and ✔️ Resolve")
        yield* press(bea, answer)
        const relayed = yield* say(bea, "Dark mode is coming next month")
        assert.include(textsTo(relayed, marisol).join(), "Dark mode is coming next month")
        yield* say(cal, "/feedbacks")
        yield* press(cal, resolve)

        // Delete (the post goes), statistics, and everyone's own views.
        yield* say(cal, `/delete ${alsoAnonymous}`)
        yield* say(bea, "/stats")
        yield* say(bea, "/pending")
        for (const who of protectedPeople) {
          yield* say(who, "/profile")
          yield* say(who, "/myconfessions")
          yield* say(who, "/mycomments")
        }
        yield* say(perpetua, `/comments ${anonymous}`)
        yield* say(perpetua, `/comments ${named}`)

        // ---- the scan ----
        const calls = session.fake.calls
        assert.isAbove(calls.length, 250)
        const isNamedAuthorLine = (who: Person, token: string, call: ApiCall) =>
          who.id === bartholomew.id &&
          (token === bartholomew.first_name || token === bartholomew.username) &&
          (call.chatId === Session.channel
            ? Session.textOf(call).startsWith(`<b>#${named}</b>`)
            : admins.some((admin) => admin.id === call.chatId) &&
              Session.textOf(call).includes(`<b>Confession #${named}</b> is waiting for review`))
        assert.deepStrictEqual(leaksIn(calls, protectedPeople, isNamedAuthorLine), [])
        // The search can find them: each one's own chat greets them by name.
        for (const who of protectedPeople) {
          assert.isTrue(calls.some((call) => call.chatId === who.id && call.raw.includes(who.first_name)), who.first_name)
        }
        // The named author's line appeared where allowed, and only there: not on their anonymous confession.
        assert.isTrue(calls.some((call) => isNamedAuthorLine(bartholomew, "Bartholomew", call) && call.raw.includes("Bartholomew")))
        // No admin is named to anyone but the admins.
        assert.deepStrictEqual(
          leaksIn(calls.filter((call) => !admins.some((admin) => admin.id === call.chatId)), admins),
          []
        )

        // The log, info level and above, as the program printed it (JSON lines).
        const lines = (yield* TestConsole.logLines).map((line) => (typeof line === "string" ? line : JSON.stringify(line)))
        assert.isTrue(lines.some((line) => line.includes("long polling started")), "the log was captured")
        const everyone = [...protectedPeople]
        for (const line of lines) {
          for (const who of everyone) {
            for (const token of identity(who)) assert.notInclude(line, token, `the log names ${who.first_name}`)
          }
        }
      })
    ).pipe(Effect.provide(TestConsole.layer)), { timeout: 240_000 })

  it.live("oracle - /block and /unblock answer byte for byte the same whether two items share an author or not", () =>
    Effect.gen(function* () {
      const same = yield* oracleWorld("same")
      const different = yield* oracleWorld("different")
      assert.isAbove(same.length, 15)
      assert.strictEqual(same.length, different.length)
      for (const [index, call] of same.entries()) assert.strictEqual(call, different[index], `admin message ${index + 1}`)
    }), { timeout: 240_000 })

  it.live("forged buttons on unpublished or deleted content answer not found and quote nothing", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env: adminEnv })
        const { press, say, toastOf } = session
        const published = yield* session.confess(zephyrine, "Soon to be deleted")
        yield* press(beatrix, CallbackData.Approve({ confessionId: published }))
        yield* session.comment(ysolde, published, "A comment nobody may quote later")
        const [commentId] = yield* session.commentIds(ysolde, published)
        if (commentId === undefined) return assert.fail("the comment is on the view")
        yield* session.reply(ottoline, commentId, "A reply nobody may quote later")
        yield* say(beatrix, `/delete ${published}`)
        // A pending confession with a comment written straight into the table (as if it had been approved once).
        const waiting = yield* session.confess(bartholomew, "Still pending")
        const [row] = yield* session.sql<{ id: number }>`
          insert into comments (confession_id, author_id, text)
          values (${waiting}, ${ysolde.id}, ${"A comment under a pending confession"}) returning id::int as id`
        const underPending = row?.id as CommentId

        const notFoundComment = Messages.commentNotFound
        const mark = session.fake.calls.length
        for (const [confessionId, commentOf] of [
          [published, commentId],
          [waiting, underPending]
        ] as const) {
          const notFound = Messages.confessionNotFound(confessionId)
          const cases: ReadonlyArray<readonly [CallbackData.CallbackData, string]> = [
            [CallbackData.Reply({ commentId: commentOf }), notFoundComment],
            [CallbackData.RepliesPage({ commentId: commentOf, page: 1 }), notFoundComment],
            [CallbackData.Like({ commentId: commentOf }), notFoundComment],
            [CallbackData.Dislike({ commentId: commentOf }), notFoundComment],
            [CallbackData.Report({ commentId: commentOf }), notFoundComment],
            [CallbackData.AddComment({ confessionId }), notFound],
            [CallbackData.CommentsPage({ confessionId, page: 1 }), notFound]
          ]
          for (const [action, expected] of cases) {
            assert.strictEqual(toastOf(yield* press(perpetua, action, 9), perpetua), expected, action._tag)
          }
          for (const command of [`/comments ${confessionId}`, `/comment ${confessionId}`, `/start c${confessionId}`]) {
            assert.deepStrictEqual(session.textsTo(yield* say(perpetua, command), perpetua), [notFound], command)
          }
        }
        // Nothing of the hidden texts went anywhere, and the forged Reply left no flow behind.
        for (const call of session.fake.calls.slice(mark)) {
          assert.notInclude(call.raw, "nobody may quote", call.method)
          assert.notInclude(call.raw, "under a pending confession", call.method)
        }
        assert.deepStrictEqual(session.textsTo(yield* say(perpetua, "a stray text"), perpetua), [Messages.notUnderstood])
      })
    ), { timeout: 120_000 })

  it.live("hostile input - NUL, lone surrogates, 10,000-character names and texts, RTL and zero-width: everyone is answered", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch({ env: adminEnv })
        const { fake } = session
        const nasty = "\u202E\u0000\uD800x\u200B\u200D\uDFFF\u2067\u061C\uFEFF"
        const long = (n: number) => nasty.repeat(Math.ceil(n / nasty.length)).slice(0, n)
        const hostile = someone(5_899_000_001, long(10_000), long(10_000), long(10_000))
        const rtl = someone(5_899_000_002, "\u202Eevil\u202C", "\u200B", "rtl_user")
        const ordinary = Array.from({ length: 6 }, (_, i) => someone(5_899_100_000 + i, `Ordinary${i}`, "User", `ordinary_${i}`))

        /** One batch: the hostile updates amid everyone else's /help; every sender gets an answer. */
        const batch = (hostileUpdates: ReadonlyArray<Update>) =>
          Effect.gen(function* () {
            const calls = yield* session.step(
              ...ordinary.slice(0, 3).map((who) => text(who, "/help")),
              ...hostileUpdates,
              ...ordinary.slice(3).map((who) => text(who, "/help"))
            )
            for (const who of ordinary) {
              assert.isTrue(
                Session.to(calls, who.id).some((call) => Session.textOf(call).includes("How it works")),
                `${who.first_name} answered`
              )
            }
            return calls
          })

        const [quiet] = ordinary
        if (quiet === undefined) return
        const confessionId = yield* session.confess(quiet, "A quiet confession")
        yield* session.press(beatrix, CallbackData.Approve({ confessionId }))

        const answeredEach = (calls: ReadonlyArray<ApiCall>, who: Person) =>
          assert.isAbove(Session.to(calls, who.id).length, 0, `the hostile sender ${who.username} is answered too`)
        answeredEach(yield* batch([text(hostile, "/start"), text(rtl, "/start")]), hostile)
        answeredEach(yield* batch([text(hostile, "/confess"), text(rtl, `/comment ${confessionId}`)]), hostile)
        const tooLong = yield* batch([text(hostile, long(10_000)), text(rtl, long(10_000))])
        assert.include(session.textsTo(tooLong, hostile).join(), "the limit is 3,500")
        assert.include(session.textsTo(tooLong, rtl).join(), "the limit is 1,000")
        answeredEach(yield* batch([text(hostile, long(300)), text(rtl, long(300))]), hostile)
        // The hostile draft goes to the admins under the hostile name (toggled to named), and to the channel.
        yield* session.press(hostile, CallbackData.PreviewToggleAnonymous(), 500)
        const submitted = yield* session.press(hostile, CallbackData.PreviewSubmit(), 500)
        const id = Number(/Confession #(\d+)/.exec(session.textsTo(submitted, hostile).join())?.[1])
        assert.isTrue(Number.isSafeInteger(id), "the hostile confession was stored")
        const approved = yield* session.press(beatrix, CallbackData.Approve({ confessionId: ConfessionId.make(id) }))
        assert.isTrue(Session.to(approved, Session.channel).length > 0, "posted")
        const forged = ["\u0000", "1:lk:\uD800", long(64), "1:cp:1:1\u200B"].map((data) => callback(hostile, data))
        answeredEach(yield* batch([...forged, text(rtl, `/comments ${confessionId}`)]), hostile)
        answeredEach(yield* batch([text(hostile, `/feedback ${long(900)}`)]), hostile)

        // Every message the bot sent parses as Telegram's HTML and stays within 4,096 characters, and polling went on
        // to the end.
        for (const call of fake.calls.filter((c) => c.method === "sendMessage" || c.method === "editMessageText")) {
          const parsed = TelegramHtml.parse(String(call.body.text ?? ""))
          if (parsed._tag === "Invalid") return assert.fail(`${call.method}: ${parsed.description}`)
          assert.isAtMost(parsed.text.length, 4096)
        }
        assert.strictEqual(fake.pendingUpdates(), 0)
      })
    ), { timeout: 180_000 })
})

// ---- the oracle's worlds --------------------------------------------------------------------------------------------

/**
 * One world of the oracle: Zephyrine signs confession A and writes comment M1; confession B and comment M2 are by
 * Zephyrine ("same") or by Bartholomew ("different"). Both people use the bot in both worlds, so every count is the
 * same. Then the admin runs the same moderation script; returns every request body sent to the admin's chat, in order,
 * with the toasts of the admin's presses.
 */
const oracleWorld = (world: "same" | "different") =>
  Session.withEmulator(
    Effect.gen(function* () {
      const session = yield* Session.launch({ env: adminEnv })
      const { say, press } = session
      const other = world === "same" ? zephyrine : bartholomew
      for (const who of [zephyrine, bartholomew, ysolde, ...admins]) yield* say(who, "/start")
      const a = yield* session.confess(zephyrine, "Signed confession A", { named: true })
      const b = yield* session.confess(other, "Anonymous confession B")
      // The third confession keeps the ids the same in both worlds: whoever did not write B writes it.
      const c = yield* session.confess(world === "same" ? bartholomew : zephyrine, "Anonymous confession C")
      for (const id of [a, b, c]) yield* press(beatrix, CallbackData.Approve({ confessionId: id }))
      yield* session.comment(zephyrine, a, "Comment M1")
      yield* session.comment(other, a, "Comment M2")
      yield* session.comment(ysolde, b, "Comment M3")
      const [m3] = yield* session.commentIds(ysolde, b)
      const [m2, m1] = yield* session.commentIds(ysolde, a)
      if (m1 === undefined || m2 === undefined || m3 === undefined) return yield* Effect.die("comments on the views")

      const mark = session.fake.calls.length
      const script = [
        `/block c${a}`, `/block c${b}`, `/unblock c${b}`, `/unblock c${a}`,
        `/unblock c${b}`, `/block c${b}`, `/block c${a}`, `/block c${c}`, `/unblock c${a}`, `/unblock c${b}`,
        `/block m${m1}`, `/block m${m2}`, `/unblock m${m2}`, `/block m${m3}`, `/unblock m${m1}`, `/unblock m${m2}`,
        `/block c${a}`, `/unblock m${m2}`, `/block m${m2}`, `/unblock c${a}`, `/unblock m${m1}`, `/unblock m${m3}`,
        "/stats", "/pending", "/reports", "/feedbacks"
      ]
      for (const command of script) yield* say(beatrix, command)
      // The blocked author's own experience is theirs alone; what the admin sees of it must not differ either.
      yield* press(beatrix, CallbackData.Approve({ confessionId: a }))
      yield* press(beatrix, CallbackData.HideComment({ commentId: m2 }))
      yield* say(beatrix, "/reports")
      return session.fake.calls
        .slice(mark)
        .filter((call) => call.chatId === beatrix.id)
        .map((call) => (call.method === "answerCallbackQuery" ? `toast ${String(call.body.text)}` : `${call.method} ${call.raw}`))
    })
  )
