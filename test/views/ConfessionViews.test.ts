import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { InlineKeyboardMarkup } from "grammy/types"
import { firstNameMaxLength, longestPostText, messageLimit, usernameMaxLength } from "../../src/domain/Confession.ts"
import { ConfessionId } from "../../src/domain/Ids.ts"
import type { SystemStats } from "../../src/domain/Stats.ts"
import { validateText } from "../../src/domain/Validation.ts"
import * as ConfessionViews from "../../src/views/ConfessionViews.ts"
import * as Html from "../../src/views/Html.ts"

const id = ConfessionId.make(12)
const maxId = ConfessionId.make(Number.MAX_SAFE_INTEGER)
const ann = { firstName: "Ann", username: "ann_k" }
const now = Date.UTC(2026, 0, 10, 12, 0, 0)
const minutesAgo = (m: number) => new Date(now - m * 60_000)

/** What every rendered message must satisfy: within Telegram's limit, every button's data within 64 bytes. */
const assertWithinLimits = (view: { readonly text: string; readonly keyboard?: InlineKeyboardMarkup | undefined }) => {
  assert.isAtMost(Html.visibleLength(view.text), Html.messageLimit)
  for (const row of view.keyboard?.inline_keyboard ?? []) {
    for (const button of row) {
      if ("callback_data" in button) assert.isAtMost(Buffer.byteLength(button.callback_data, "utf8"), 64)
    }
  }
}

const buttons = (view: { readonly keyboard?: InlineKeyboardMarkup | undefined }) =>
  (view.keyboard?.inline_keyboard ?? []).map((row) =>
    row.map((b) => [b.text, "callback_data" in b ? b.callback_data : "url" in b ? b.url : ""])
  )

// The longest texts a confession may have: 3,500 characters, each needing escaping or taking two UTF-16 units.
const worstTexts = ["<".repeat(3500), "&".repeat(3500), "😀".repeat(3500), "a".repeat(3500)]
const longName = { firstName: "N".repeat(256), username: "u".repeat(64) }

const summary = (overrides: Partial<ConfessionViews.ConfessionSummary> = {}): ConfessionViews.ConfessionSummary => ({
  id,
  text: "I love exams",
  media: null,
  anonymous: true,
  status: "pending",
  rejectReason: null,
  createdAt: minutesAgo(5),
  ...overrides
})

describe("ConfessionViews", () => {
  it("preview - the escaped text, the author line and Submit / Anonymous / Cancel", () => {
    const view = ConfessionViews.preview({ text: "I <3 exams & coffee", anonymous: true }, ann)
    assert.strictEqual(view.text, "👀 <b>Preview</b>\n\nI &lt;3 exams &amp; coffee\n\n— Anonymous\n\nSubmit it for review?")
    assert.deepStrictEqual(buttons(view), [[["✅ Submit", "1:ps"]], [["🎭 Anonymous: on", "1:pa"], ["✖️ Cancel", "1:pc"]]])
    const named = ConfessionViews.preview({ text: "hi", anonymous: false }, ann)
    assert.include(named.text, "— Ann @ann_k")
    assert.strictEqual(buttons(named)[1]?.[0]?.[0], "🎭 Anonymous: off")
  })

  it("adminNotification - the id, the text and Approve / Reject; an anonymous author stays anonymous", () => {
    const view = ConfessionViews.adminNotification({ id, text: "<b>secret</b>", anonymous: true }, ann)
    assert.strictEqual(view.text, "🆕 <b>Confession #12</b> is waiting for review\n\n&lt;b&gt;secret&lt;/b&gt;\n\n— Anonymous")
    assert.notInclude(view.text, "Ann")
    assert.deepStrictEqual(buttons(view), [[["✅ Approve", "1:ap:12"], ["❌ Reject", "1:rj:12"]]])
    assert.include(ConfessionViews.adminNotification({ id, text: "x", anonymous: false }, ann).text, "— Ann @ann_k")
  })

  it("outcome - the decision first, the text shortened, no buttons", () => {
    assert.deepStrictEqual(ConfessionViews.outcome({ id, text: "a & b" }, "approved"), {
      text: "✅ Approved by an admin\n\n<b>Confession #12</b>\n\na &amp; b"
    })
    assert.isTrue(ConfessionViews.outcome({ id, text: "x" }, "rejected").text.startsWith("❌ Rejected\n\n"))
    assert.isTrue(ConfessionViews.outcome({ id, text: "x" }, "deleted").text.startsWith("🗑 Deleted by an admin\n\n"))
    const long = ConfessionViews.outcome({ id, text: "y".repeat(3500) }, "approved")
    assert.isTrue(long.text.endsWith(`${"y".repeat(ConfessionViews.decidedPreviewLength - 1)}…`))
  })

  it("channelPost - #ID, the escaped text, the author line and the comments button", () => {
    const post = ConfessionViews.channelPost(
      { id, text: "<b>&", anonymous: false, authorFirstName: "Ann", authorUsername: "ann_k", media: null },
      "https://t.me/confessions_bot?start=c12"
    )
    assert.strictEqual(post.text, "<b>#12</b>\n\n&lt;b&gt;&amp;\n\n— Ann @ann_k")
    assert.deepStrictEqual(buttons(post), [[["💬 View / Add Comments", "https://t.me/confessions_bot?start=c12"]]])
    const anonymous = ConfessionViews.channelPost(
      { id, text: "hi", anonymous: true, authorFirstName: "Ann", authorUsername: "ann_k", media: null },
      "https://t.me/b?start=c12"
    )
    assert.strictEqual(anonymous.text, "<b>#12</b>\n\nhi\n\n— Anonymous")
  })

  it("preview / adminNotification / channelPost - within 4,096 characters at the largest sizes, author line kept", () => {
    for (const text of worstTexts) {
      for (const anonymous of [true, false]) {
        const preview = ConfessionViews.preview({ text, anonymous }, longName)
        assertWithinLimits(preview)
        assert.isTrue(preview.text.endsWith("\n\nSubmit it for review?"))
        const notification = ConfessionViews.adminNotification({ id: maxId, text, anonymous }, longName)
        assertWithinLimits(notification)
        const post = ConfessionViews.channelPost(
          { id: maxId, text, anonymous, authorFirstName: longName.firstName, authorUsername: longName.username, media: null },
          "https://t.me/b?start=c9007199254740991"
        )
        assertWithinLimits(post)
        assert.isTrue(post.text.endsWith(anonymous ? "— Anonymous" : `@${longName.username}`))
        assertWithinLimits(ConfessionViews.outcome({ id: maxId, text }, "approved"))
      }
    }
  })


  it("age - coarse and never negative", () => {
    assert.strictEqual(ConfessionViews.age(new Date(now + 60_000), now), "just now")
    assert.strictEqual(ConfessionViews.age(minutesAgo(0.5), now), "just now")
    assert.strictEqual(ConfessionViews.age(minutesAgo(5), now), "5 min ago")
    assert.strictEqual(ConfessionViews.age(minutesAgo(185), now), "3 h ago")
    assert.strictEqual(ConfessionViews.age(minutesAgo(60 * 50), now), "2 d ago")
  })

  it("pendingPage - id, age and the first 100 characters per confession, ✅ / ❌ each, paging arrows", () => {
    const page = {
      items: [summary(), summary({ id: ConfessionId.make(13), text: `line one\n  line two ${"z".repeat(120)}`, createdAt: minutesAgo(130) })],
      page: 2,
      totalPages: 3
    }
    const view = ConfessionViews.pendingPage(page, now)
    assert.strictEqual(
      view.text,
      "🕓 <b>Pending confessions (page 2 of 3)</b>\n\n" +
        "<b>#12</b> · 5 min ago\nI love exams\n\n" +
        `<b>#13</b> · 2 h ago\nline one line two ${"z".repeat(81)}…`
    )
    assert.deepStrictEqual(buttons(view), [
      [["✅ #12", "1:ap:12"], ["❌ #12", "1:rj:12"]],
      [["✅ #13", "1:ap:13"], ["❌ #13", "1:rj:13"]],
      [["⬅️", "1:pp:1"], ["2/3", "1:no"], ["➡️", "1:pp:3"]]
    ])
    assert.strictEqual(ConfessionViews.pendingPage({ items: [summary()], page: 1, totalPages: 1 }, now).text.split("\n")[0], "🕓 <b>Pending confessions</b>")
  })

  it("myConfessionsPage - status, age, anonymity and the moderators' note per confession", () => {
    const view = ConfessionViews.myConfessionsPage(
      {
        items: [
          summary({ status: "rejected", rejectReason: "Too <personal>", anonymous: false }),
          summary({ id: ConfessionId.make(11), status: "approved", createdAt: minutesAgo(60 * 24 * 3) })
        ],
        page: 1,
        totalPages: 2
      },
      now
    )
    assert.strictEqual(
      view.text,
      "📝 <b>My confessions (page 1 of 2)</b>\n\n" +
        "❌ <b>#12</b> · rejected · 5 min ago\nI love exams\n📝 <i>Too &lt;personal&gt;</i>\n\n" +
        "✅ <b>#11</b> · approved · 3 d ago · 🎭\nI love exams"
    )
    assert.deepStrictEqual(buttons(view), [[["1/2", "1:no"], ["➡️", "1:mf:2"]]])
  })

  it("pendingPage / myConfessionsPage - within limits with full pages of the longest texts and the largest ids", () => {
    for (const text of worstTexts) {
      const items = Array.from({ length: ConfessionViews.pageSize }, (_, i) =>
        summary({ id: ConfessionId.make(Number.MAX_SAFE_INTEGER - i), text, status: "rejected", rejectReason: text.slice(0, 500) })
      )
      const page = { items, page: Number.MAX_SAFE_INTEGER - 1, totalPages: Number.MAX_SAFE_INTEGER }
      assertWithinLimits(ConfessionViews.pendingPage(page, now))
      assertWithinLimits(ConfessionViews.myConfessionsPage(page, now))
    }
  })

  it("stats - every number on its own line, totals included", () => {
    const stats: SystemStats = {
      users: 1200,
      confessionsPending: 3,
      confessionsApproved: 45,
      confessionsRejected: 7,
      confessionsDeleted: 2,
      comments: 300,
      reactions: 12_345,
      last24h: { newUsers: 5, activeUsers: 40, confessions: 4, comments: 20, reactions: 50 }
    }
    assert.strictEqual(
      ConfessionViews.stats(stats),
      [
        "📊 <b>Statistics</b>",
        "",
        "👥 Users: 1,200",
        "📝 Confessions: 57",
        "   ⏳ Pending: 3",
        "   ✅ Approved: 45",
        "   ❌ Rejected: 7",
        "   🗑 Deleted: 2",
        "💬 Comments: 300",
        "👍 Reactions: 12,345",
        "",
        "🕐 <b>Last 24 hours</b>",
        "🆕 New users: 5",
        "🟢 Active users: 40",
        "📝 Confessions: 4",
        "💬 Comments: 20",
        "👍 Reactions: 50"
      ].join("\n")
    )
  })

  // The view is the oracle for "posted whole": the frame the domain counts must be the one channelPost really adds.
  it("longestPostText - the longest accepted text is posted whole under the longest header and author line", () => {
    const longest = longestPostText(messageLimit)
    const id = ConfessionId.make(Number.MAX_SAFE_INTEGER)
    // Every kind of character that could cost more than it seems: escaped, two units, plain.
    const texts = ["a", "&", "<", "😀"].map((unit) => unit.repeat(Math.floor(longest / unit.length)).padEnd(longest, "a"))
    for (const text of texts) {
      // What validation accepts at this limit is exactly what the post must show.
      assert.deepStrictEqual(validateText(text, longest), Result.succeed(text))
      const post = ConfessionViews.channelPost(
        {
          id,
          text,
          anonymous: false,
          authorFirstName: "&".repeat(firstNameMaxLength),
          authorUsername: "u".repeat(usernameMaxLength),
          media: null
        },
        "https://t.me/bot?start=c1"
      )
      assert.include(post.text, `\n\n${Html.escape(text)}\n\n— `, text.slice(0, 4))
      assert.strictEqual(Html.visibleLength(post.text), messageLimit, text.slice(0, 4))
    }
    // One unit more and the same post must be cut: the frame is counted exactly, not generously.
    const tooLong = ConfessionViews.channelPost(
      {
        id,
        text: "a".repeat(longest + 1),
        anonymous: false,
        authorFirstName: "N".repeat(firstNameMaxLength),
        authorUsername: "u".repeat(usernameMaxLength),
        media: null
      },
      "https://t.me/bot?start=c1"
    )
    assert.notInclude(tooLong.text, "a".repeat(longest + 1))
  })
})
