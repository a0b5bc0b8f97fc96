import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import { Empty, TooLong } from "../../src/domain/Validation.ts"
import * as Html from "../../src/views/Html.ts"
import * as Messages from "../../src/views/Messages.ts"

describe("Messages", () => {
  it("greeting - names the user, escaped and shortened", () => {
    assert.isTrue(Messages.greeting("Ann").startsWith("👋 Hi, <b>Ann</b>! Welcome to the confessions bot."))
    assert.include(Messages.greeting("<Ann & Bob>"), "<b>&lt;Ann &amp; Bob&gt;</b>")
    assert.include(Messages.greeting("   "), "Hi, <b>there</b>!")
    const long = Messages.greeting("N".repeat(256))
    assert.include(long, `<b>${"N".repeat(63)}…</b>`)
  })

  it("help - every user command; admin commands only for admins; placeholders escaped", () => {
    const user = Messages.help(false)
    for (const command of [
      "/start", "/confess", "/cancel", "/comments &lt;ID&gt;", "/comment &lt;ID&gt;", "/profile", "/myconfessions",
      "/mycomments", "/anonymous_on", "/anonymous_off", "/feedback", "/mydata", "/forget", "/help"
    ]) {
      assert.include(user, `${command} — `, command)
    }
    for (const admin of ["/pending", "/stats", "/delete", "/block", "/unblock", "/feedbacks"]) {
      assert.notInclude(user, admin, admin)
      assert.include(Messages.help(true), `${admin} `, admin)
    }
    assert.notMatch(Messages.help(true).replace(/<\/?b>/g, ""), /<|>/)
  })

  it("textProblem / textOnly - state the rule and the way out, whatever is being written", () => {
    assert.strictEqual(Messages.textProblem(new Empty(), "confession"), "✏️ Your confession is empty. Please send some text, or /cancel.")
    assert.strictEqual(
      Messages.textProblem(new TooLong({ length: 3501, maxLength: 3500 }), "confession"),
      "✏️ Your confession has 3,501 characters; the limit is 3,500. Please shorten it and send it again, or /cancel."
    )
    assert.strictEqual(Messages.textProblem(new Empty(), "reason"), "✏️ Your reason is empty. Please send some text, or /skip.")
    assert.strictEqual(Messages.textOnly("feedback"), "📝 Text only, please: send your feedback as a text message, or /cancel.")
    assert.strictEqual(Messages.textOnly("reason"), "📝 Text only, please: send your reason as a text message, or /skip.")
  })

  it("formatWait - rounded up to what people say", () => {
    const cases: ReadonlyArray<readonly [Duration.Input, string]> = [
      ["10 millis", "1 second"],
      ["1 second", "1 second"],
      ["25.2 seconds", "26 seconds"],
      ["59 seconds", "59 seconds"],
      ["60 seconds", "1 minute"],
      ["12 minutes", "12 minutes"],
      ["59.5 minutes", "1 hour"],
      ["1 hour", "1 hour"],
      ["90 minutes", "2 hours"]
    ]
    for (const [wait, said] of cases) assert.strictEqual(Messages.formatWait(Duration.fromInputUnsafe(wait)), said, String(wait))
    assert.strictEqual(Messages.cooldown(Duration.seconds(25)), "⏳ Please wait 25 seconds before sending another confession.")
    assert.strictEqual(
      Messages.hourlyLimit(5, Duration.minutes(12)),
      "⏳ You can send 5 confessions per hour. Try again in 12 minutes."
    )
  })

  it("unknownCommand - names the command back, escaped and shortened", () => {
    assert.isTrue(Messages.unknownCommand("/frob").startsWith("🤔 I don't know the command /frob.\n\n"))
    assert.include(Messages.unknownCommand("/<b>"), "/&lt;b&gt;")
    assert.include(Messages.unknownCommand(`/${"x".repeat(100)}`), `/${"x".repeat(38)}…`)
  })

  it("moderation texts - ids, statuses and the escaped reason", () => {
    assert.strictEqual(Messages.alreadyDecided(7, "approved"), "Confession #7 is already approved.")
    assert.strictEqual(Messages.alreadyDecided(7, "rejected"), "Confession #7 is already rejected.")
    assert.strictEqual(
      Messages.authorApproved(7, "https://t.me/c/123/9"),
      "🎉 Your confession #7 was approved and posted:\nhttps://t.me/c/123/9"
    )
    assert.strictEqual(Messages.authorApproved(7, undefined), "🎉 Your confession #7 was approved!")
    assert.strictEqual(
      Messages.authorRejectReason(7, "no <names> & places"),
      "📝 A note from the moderators about confession #7:\n\n<i>no &lt;names&gt; &amp; places</i>"
    )
    assert.include(Messages.askRejectReason(7), "(up to 500 characters), or /skip.")
    assert.strictEqual(
      Messages.textProblem(new TooLong({ length: 501, maxLength: 500 }), "reason"),
      "✏️ Your reason has 501 characters; the limit is 500. Please shorten it and send it again, or /skip."
    )
  })

  it("admin texts - usage lines show their placeholders, outcomes name content, never people", () => {
    assert.strictEqual(Messages.deleteUsage, "Usage: /delete &lt;ID&gt;, for example /delete 42")
    assert.include(Messages.blockUsage("unblock"), "/unblock c&lt;ID&gt;")
    assert.strictEqual(Messages.deleted(3, "removing"), "🗑 Confession #3 deleted. Its channel post is being removed.")
    assert.strictEqual(Messages.deleted(3, "none"), "🗑 Confession #3 deleted.")
    assert.include(Messages.deleted(3, "noChannel"), "CHANNEL_ID is not set")
    assert.strictEqual(Messages.blockedAuthor("comment", 9), "🚫 The author of comment #9 is blocked. Who they are stays hidden.")
    assert.strictEqual(
      Messages.unblockedAuthor("confession", 9),
      "✅ The author of confession #9 is not blocked. Who they are stays hidden."
    )
    assert.strictEqual(Messages.subjectNotFound("comment", 9), "🔍 Comment #9 not found.")
  })

  it("every text - within Telegram's limit", () => {
    const texts = [
      Messages.greeting("N".repeat(256)),
      Messages.help(true),
      Messages.notUnderstood,
      Messages.unknownCommand("/".repeat(5000)),
      Messages.confessPrompt(3800),
      Messages.authorRejectReason(Number.MAX_SAFE_INTEGER, "&".repeat(500)),
      Messages.authorApproved(Number.MAX_SAFE_INTEGER, `https://t.me/c/${"9".repeat(16)}/${Number.MAX_SAFE_INTEGER}`)
    ]
    for (const text of texts) assert.isAtMost(Html.visibleLength(text), Html.messageLimit)
  })
})
