import { assert, describe, it } from "@effect/vitest"
import type { InlineKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId, ConfessionId } from "../../src/domain/Ids.ts"
import { Empty, TooLong } from "../../src/domain/Validation.ts"
import type { CommentRecord, CommentsPage, RepliesPage } from "../../src/domain/Comment.ts"
import * as CommentViews from "../../src/views/CommentViews.ts"
import * as Html from "../../src/views/Html.ts"
import * as Keyboards from "../../src/views/Keyboards.ts"
import * as Messages from "../../src/views/Messages.ts"

const confessionId = ConfessionId.make(42)

const comment = (id: number, text: string, extra: Partial<CommentRecord> = {}): CommentRecord => ({
  id: CommentId.make(id),
  confessionId,
  parentId: null,
  text,
  hidden: false,
  likes: 0,
  dislikes: 0,
  reports: 0,
  replies: 0,
  authorTag: false,
  createdAt: new Date(0),
  ...extra
})

const commentsPage = (items: ReadonlyArray<CommentRecord>, page = 1, totalPages = 1, text = "My confession"): CommentsPage => ({
  confession: { id: confessionId, text, media: null },
  items,
  page,
  totalPages,
  total: items.length + (totalPages - 1) * 5
})

const callbackData = (keyboard: InlineKeyboardMarkup): Array<string> =>
  keyboard.inline_keyboard.flat().flatMap((key) => ("callback_data" in key ? [key.callback_data] : []))

const labels = (keyboard: InlineKeyboardMarkup): Array<Array<string>> =>
  keyboard.inline_keyboard.map((row) => row.map((key) => key.text))

const data = (action: CallbackData.CallbackData) => CallbackData.toString(action)

const assertWithinLimits = (view: Required<Keyboards.View>) => {
  assert.isAtMost(Html.visibleLength(view.text), Html.messageLimit)
  for (const raw of callbackData(view.keyboard)) {
    assert.isAtMost(Buffer.byteLength(raw, "utf8"), CallbackData.maxBytes)
    assert.isTrue(CallbackData.fromString(raw)._tag === "Some", `decodable: ${raw}`)
  }
}

describe("CommentViews", () => {
  it("commentsPage - the confession, numbered comments, the author tag, reply counts and buttons", () => {
    const view = CommentViews.commentsPage(
      commentsPage([
        comment(9, "second <b>&", { likes: 3, dislikes: 1, replies: 2 }),
        comment(7, "first", { authorTag: true })
      ])
    )
    assert.strictEqual(
      view.text,
      [
        "💬 <b>Comments on confession #42</b>",
        "<i>My confession</i>",
        "",
        "<b>1.</b>",
        "second &lt;b&gt;&amp;",
        "↩️ 2 replies",
        "",
        "<b>2.</b> ✍️ <i>author</i>",
        "first"
      ].join("\n")
    )
    assert.deepStrictEqual(labels(view.keyboard), [
      ["1. 👍 3", "👎 1", "⚠️", "💬", "↩️ 2"],
      ["2. 👍 0", "👎 0", "⚠️", "💬"],
      ["➕ Add comment"]
    ])
    assert.deepStrictEqual(callbackData(view.keyboard), [
      data(CallbackData.Like({ commentId: CommentId.make(9) })),
      data(CallbackData.Dislike({ commentId: CommentId.make(9) })),
      data(CallbackData.Report({ commentId: CommentId.make(9) })),
      data(CallbackData.Reply({ commentId: CommentId.make(9) })),
      data(CallbackData.RepliesPage({ commentId: CommentId.make(9), page: 1 })),
      data(CallbackData.Like({ commentId: CommentId.make(7) })),
      data(CallbackData.Dislike({ commentId: CommentId.make(7) })),
      data(CallbackData.Report({ commentId: CommentId.make(7) })),
      data(CallbackData.Reply({ commentId: CommentId.make(7) })),
      data(CallbackData.AddComment({ confessionId }))
    ])
  })

  it("commentsPage - quotes only the confession's first 300 characters", () => {
    const view = CommentViews.commentsPage(commentsPage([], 1, 1, "a".repeat(299) + "bcdef"))
    assert.include(view.text, `<i>${"a".repeat(299)}…</i>`)
    assert.notInclude(view.text, "bcdef")
    assert.notInclude(view.text, "ab")
  })

  it("commentsPage - no comments: an invitation and ➕ only", () => {
    const view = CommentViews.commentsPage(commentsPage([]))
    assert.strictEqual(
      view.text,
      "💬 <b>Comments on confession #42</b>\n<i>My confession</i>\n\nNo comments yet. Be the first to write one!"
    )
    assert.deepStrictEqual(labels(view.keyboard), [["➕ Add comment"]])
  })

  it("commentsPage - paging: ⬅️ and ➡️ only where there is a page, a counter between, a page line", () => {
    const items = [comment(1, "x")]
    const first = CommentViews.commentsPage(commentsPage(items, 1, 5))
    const middle = CommentViews.commentsPage(commentsPage(items, 3, 5))
    const last = CommentViews.commentsPage(commentsPage(items, 5, 5))
    assert.deepStrictEqual(labels(first.keyboard).at(-2), ["1/5", "➡️"])
    assert.deepStrictEqual(labels(middle.keyboard).at(-2), ["⬅️", "3/5", "➡️"])
    assert.deepStrictEqual(labels(last.keyboard).at(-2), ["⬅️", "5/5"])
    assert.deepStrictEqual(middle.keyboard.inline_keyboard.at(-2)?.map((key) => ("callback_data" in key ? key.callback_data : "")), [
      data(CallbackData.CommentsPage({ confessionId, page: 2 })),
      data(CallbackData.Noop()),
      data(CallbackData.CommentsPage({ confessionId, page: 4 }))
    ])
    assert.isTrue(middle.text.endsWith("\n\nPage 3 of 5 · 21 comments"))
  })

  it("commentsPage - within 4,096 characters at the longest texts and page size 10; callback data within 64 bytes", () => {
    for (const filler of ["x", "&", "😀", "<b>"]) {
      const long = filler.repeat(Math.ceil(3_800 / filler.length))
      const items = Array.from({ length: 10 }, (_, index) =>
        comment(Number.MAX_SAFE_INTEGER - index, long, {
          likes: 2_147_483_647,
          dislikes: 2_147_483_647,
          replies: 2_147_483_647,
          authorTag: index % 2 === 0
        })
      )
      const view = CommentViews.commentsPage({
        confession: { id: ConfessionId.make(Number.MAX_SAFE_INTEGER), text: long, media: null },
        items,
        page: 2_147_483_647,
        totalPages: 2_147_483_647,
        total: 2_147_483_647
      })
      assertWithinLimits(view)
      // Every comment still gets a fair share of the message, not just the first one.
      for (let n = 1; n <= 10; n++) assert.include(view.text, `<b>${n}.</b>`)
      assert.isAtLeast(Html.visibleLength(view.text), 3_500, filler)
    }
  })

  it("commentsPage - short comments are shown whole next to a long one", () => {
    const view = CommentViews.commentsPage(commentsPage([comment(2, "short one"), comment(1, "y".repeat(5_000))]))
    assert.include(view.text, "\nshort one\n")
    assert.isAtMost(Html.visibleLength(view.text), Html.messageLimit)
    assert.include(view.text, "…")
  })

  it("repliesPage - the parent, the replies without reply buttons, 💬 Reply and the way back", () => {
    const parent = comment(5, "parent text", { authorTag: true, replies: 1 })
    const view: RepliesPage = {
      parent,
      items: [comment(6, "a reply", { parentId: CommentId.make(5), likes: 1 })],
      page: 1,
      totalPages: 1,
      total: 1
    }
    const rendered = CommentViews.repliesPage(view)
    assert.strictEqual(
      rendered.text,
      "↩️ <b>Replies to a comment on confession #42</b>\n✍️ <i>author</i> <i>parent text</i>\n\n<b>1.</b>\na reply"
    )
    assert.deepStrictEqual(labels(rendered.keyboard), [["1. 👍 1", "👎 0", "⚠️"], ["💬 Reply", "⬅️ All comments"]])
    assert.deepStrictEqual(callbackData(rendered.keyboard).slice(-2), [
      data(CallbackData.Reply({ commentId: CommentId.make(5) })),
      data(CallbackData.CommentsPage({ confessionId, page: 1 }))
    ])
  })

  it("repliesPage - within limits at the longest texts and page size 10", () => {
    const long = "&".repeat(3_800)
    const rendered = CommentViews.repliesPage({
      parent: comment(Number.MAX_SAFE_INTEGER, long),
      items: Array.from({ length: 10 }, (_, index) => comment(index + 1, long, { parentId: CommentId.make(1) })),
      page: 3,
      totalPages: 9,
      total: 90
    })
    assertWithinLimits(rendered)
    assert.deepStrictEqual(labels(rendered.keyboard).at(-2), ["⬅️", "3/9", "➡️"])
  })

  it("myComments - each comment with its confession, one button per confession, paged", () => {
    const rendered = CommentViews.myComments({
      items: [
        comment(3, "mine", { likes: 2 }),
        comment(2, "a reply", { parentId: CommentId.make(1), confessionId: ConfessionId.make(7) }),
        comment(1, "older", { confessionId: ConfessionId.make(7) })
      ],
      page: 1,
      totalPages: 2,
      total: 6
    })
    assert.strictEqual(
      rendered.text,
      [
        "💬 <b>My comments</b> (6)",
        "",
        "<b>1.</b>",
        "<i>on confession #42</i> · 👍 2 · 👎 0",
        "mine",
        "",
        "<b>2.</b>",
        "<i>↩️ a reply on confession #7</i> · 👍 0 · 👎 0",
        "a reply",
        "",
        "<b>3.</b>",
        "<i>on confession #7</i> · 👍 0 · 👎 0",
        "older",
        "",
        "Page 1 of 2 · 6 comments"
      ].join("\n")
    )
    assert.deepStrictEqual(labels(rendered.keyboard), [["💬 #42", "💬 #7"], ["1/2", "➡️"]])
    assert.deepStrictEqual(callbackData(rendered.keyboard), [
      data(CallbackData.CommentsPage({ confessionId, page: 1 })),
      data(CallbackData.CommentsPage({ confessionId: ConfessionId.make(7), page: 1 })),
      data(CallbackData.Noop()),
      data(CallbackData.MyCommentsPage({ page: 2 }))
    ])
  })

  it("myComments - empty, and within limits at the longest texts", () => {
    const empty = CommentViews.myComments({ items: [], page: 1, totalPages: 1, total: 0 })
    assert.strictEqual(
      empty.text,
      "💬 <b>My comments</b>\n\nYou haven't written any comments yet. Open a confession from the channel to join the conversation."
    )
    assert.deepStrictEqual(empty.keyboard.inline_keyboard, [])
    assertWithinLimits(
      CommentViews.myComments({
        items: Array.from({ length: 10 }, (_, index) =>
          comment(index + 1, "😀".repeat(1_900), { confessionId: ConfessionId.make(Number.MAX_SAFE_INTEGER - index) })
        ),
        page: 5,
        totalPages: 5,
        total: 50
      })
    )
  })

  it("pageShown - reads the page back from the counter; 1 without one", () => {
    const items = [comment(1, "x")]
    for (const page of [1, 2, 5]) {
      assert.strictEqual(Keyboards.pageShown(CommentViews.commentsPage(commentsPage(items, page, 5)).keyboard), page)
    }
    assert.strictEqual(Keyboards.pageShown(CommentViews.commentsPage(commentsPage(items)).keyboard), 1)
    assert.strictEqual(Keyboards.pageShown(undefined), 1)
    assert.strictEqual(
      Keyboards.pageShown({ inline_keyboard: [[{ text: "junk", callback_data: data(CallbackData.Noop()) }]] }),
      1
    )
  })

  it("withReactionCounts - rewrites only the pressed comment's 👍 n / 👎 n, every other button as it was", () => {
    const page = CommentViews.commentsPage(
      commentsPage(
        [
          comment(9, "a", { likes: 3, dislikes: 1, replies: 2 }),
          comment(8, "b", { likes: 7, dislikes: 7 }),
          comment(7, "c", { likes: 0, dislikes: 4 })
        ],
        2,
        3
      )
    )
    const rewritten = CommentViews.withReactionCounts(page.keyboard, CommentId.make(8), { likes: 8, dislikes: 6 })
    if (rewritten === undefined) return assert.fail("comment 8 is on the page")
    assert.deepStrictEqual(labels(rewritten), [
      ["1. 👍 3", "👎 1", "⚠️", "💬", "↩️ 2"],
      ["2. 👍 8", "👎 6", "⚠️", "💬"],
      ["3. 👍 0", "👎 4", "⚠️", "💬"],
      ["⬅️", "2/3", "➡️"],
      ["➕ Add comment"]
    ])
    assert.deepStrictEqual(callbackData(rewritten), callbackData(page.keyboard))
    // The same as rendering the page with the new counts.
    const rendered = CommentViews.commentsPage(
      commentsPage(
        [
          comment(9, "a", { likes: 3, dislikes: 1, replies: 2 }),
          comment(8, "b", { likes: 8, dislikes: 6 }),
          comment(7, "c", { likes: 0, dislikes: 4 })
        ],
        2,
        3
      )
    )
    assert.deepStrictEqual(rewritten, rendered.keyboard)
    // The input is not changed.
    assert.deepStrictEqual(labels(page.keyboard)[1], ["2. 👍 7", "👎 7", "⚠️", "💬"])
  })

  it("withReactionCounts - a replies view; url buttons pass through; counts of 0 and large numbers", () => {
    const replies = CommentViews.repliesPage({
      parent: comment(5, "parent", { replies: 2 }),
      items: [comment(6, "r1", { parentId: CommentId.make(5) }), comment(4, "r2", { parentId: CommentId.make(5), likes: 2 })],
      page: 1,
      totalPages: 1,
      total: 2
    })
    const keyboard = { inline_keyboard: [...replies.keyboard.inline_keyboard, [{ text: "🔗", url: "https://t.me/x" }]] }
    const rewritten = CommentViews.withReactionCounts(keyboard, CommentId.make(4), { likes: 0, dislikes: 123456 })
    assert.deepStrictEqual(rewritten && labels(rewritten), [
      ["1. 👍 0", "👎 0", "⚠️"],
      ["2. 👍 0", "👎 123456", "⚠️"],
      ["💬 Reply", "⬅️ All comments"],
      ["🔗"]
    ])
    assert.deepStrictEqual(rewritten?.inline_keyboard[3], [{ text: "🔗", url: "https://t.me/x" }])
  })

  it("withReactionCounts - undefined when the keyboard shows no counts for the comment", () => {
    const page = CommentViews.commentsPage(commentsPage([comment(9, "a")])).keyboard
    const counts = { likes: 1, dislikes: 0 }
    assert.isUndefined(CommentViews.withReactionCounts(page, CommentId.make(10), counts), "another comment")
    assert.isUndefined(CommentViews.withReactionCounts({ inline_keyboard: [] }, CommentId.make(9), counts), "no buttons")
    const like = data(CallbackData.Like({ commentId: CommentId.make(9) }))
    const dislike = data(CallbackData.Dislike({ commentId: CommentId.make(9) }))
    for (const [likeText, dislikeText] of [
      ["Like", "👎 0"],
      ["1. 👍 0", "Dislike 0"],
      ["👍 0", "👎 0"]
    ] as const) {
      const foreign = { inline_keyboard: [[{ text: likeText, callback_data: like }, { text: dislikeText, callback_data: dislike }]] }
      assert.isUndefined(CommentViews.withReactionCounts(foreign, CommentId.make(9), counts), `${likeText} / ${dislikeText}`)
    }
    const onlyLike = { inline_keyboard: [[{ text: "1. 👍 0", callback_data: like }]] }
    assert.isUndefined(CommentViews.withReactionCounts(onlyLike, CommentId.make(9), counts), "one of the two")
  })

  it("prompts and answers - escaped, with the rule stated", () => {
    assert.strictEqual(Messages.confessionNotFound("<x>"), "🔍 Confession #&lt;x&gt; not found.")
    assert.strictEqual(
      Messages.confessionNotFound("9".repeat(40)),
      `🔍 Confession #${"9".repeat(19)}… not found.`
    )
    assert.strictEqual(
      Messages.askComment(confessionId, 1000),
      "✍️ Send your comment on confession #42 (up to 1,000 characters). Comments never show who wrote them. /cancel to stop."
    )
    assert.include(Messages.askReply(comment(1, "<i>" + "q".repeat(200)), 1000), `<i>&lt;i&gt;${"q".repeat(96)}…</i>`)
    assert.strictEqual(Messages.textProblem(new Empty(), "comment"), "✏️ Your comment is empty. Please send some text, or /cancel.")
    assert.strictEqual(
      Messages.textProblem(new TooLong({ length: 1234, maxLength: 1000 }), "reply"),
      "✏️ Your reply has 1,234 characters; the limit is 1,000. Please shorten it and send it again, or /cancel."
    )
    const notice = CommentViews.newCommentNotice(confessionId)
    assert.strictEqual(notice.text, "💬 Someone commented on your confession #42")
    assert.deepStrictEqual(callbackData(notice.keyboard), [data(CallbackData.CommentsPage({ confessionId, page: 1 }))])
  })

  it("reactionToast / reportToast - say what happened", () => {
    assert.strictEqual(Messages.reactionToast("like", { likes: 1, dislikes: 0, mine: "like" }), "👍 Liked")
    assert.strictEqual(Messages.reactionToast("like", { likes: 0, dislikes: 0, mine: null }), "Like removed")
    assert.strictEqual(Messages.reactionToast("dislike", { likes: 0, dislikes: 1, mine: "dislike" }), "👎 Disliked")
    assert.strictEqual(Messages.reactionToast("dislike", { likes: 0, dislikes: 0, mine: null }), "Dislike removed")
    assert.strictEqual(
      Messages.reportToast({ reports: 1, counted: true, alert: false }),
      "⚠️ Reported. Thank you, the admins will take a look."
    )
    assert.strictEqual(
      Messages.reportToast({ reports: 1, counted: false, alert: false }),
      "You have already reported this comment."
    )
  })

  it("reportAlert / reportDecided - the comment by its ids only, Hide · Keep, then the outcome", () => {
    const reported = comment(12, "rude & <loud>", { reports: 3 })
    const alert = CommentViews.reportAlert(reported)
    assert.strictEqual(
      alert.text,
      "⚠️ <b>Reported comment #12</b> on confession #42 (3 reports)\n\nrude &amp; &lt;loud&gt;\n\n" +
        "Hide it from every view, or keep it. <code>/block m12</code> blocks its author without revealing who it is."
    )
    assert.deepStrictEqual(labels(alert.keyboard), [["🙈 Hide", "✔️ Keep"]])
    assert.deepStrictEqual(callbackData(alert.keyboard), [
      data(CallbackData.HideComment({ commentId: CommentId.make(12) })),
      data(CallbackData.KeepComment({ commentId: CommentId.make(12) }))
    ])
    assert.strictEqual(
      CommentViews.reportDecided(reported, "hidden"),
      "⚠️ <b>Reported comment #12</b> on confession #42 (3 reports)\n\nrude &amp; &lt;loud&gt;\n\n🙈 Hidden: it no longer appears anywhere."
    )
    assert.isTrue(CommentViews.reportDecided(reported, "kept").endsWith("✔️ Kept: it stays visible."))
    assertWithinLimits(CommentViews.reportAlert(comment(Number.MAX_SAFE_INTEGER, "&".repeat(3_800), { reports: 1000 })))
    assert.isAtMost(Html.visibleLength(CommentViews.reportDecided(comment(1, "&".repeat(3_800)), "kept")), 4096)
  })
})
