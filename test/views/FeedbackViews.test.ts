import { assert, describe, it } from "@effect/vitest"
import type { InlineKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { FeedbackId, UserId } from "../../src/domain/Ids.ts"
import { Empty, TooLong } from "../../src/domain/Validation.ts"
import type { FeedbackItem } from "../../src/domain/Feedback.ts"
import * as FeedbackViews from "../../src/views/FeedbackViews.ts"
import * as Html from "../../src/views/Html.ts"
import * as Messages from "../../src/views/Messages.ts"

const item = (id: number, text: string, authorId = 501): FeedbackItem => ({
  id: FeedbackId.make(id),
  authorId: UserId.make(authorId),
  text,
  status: "open",
  resolvedBy: null,
  resolvedAt: null,
  adminNote: null,
  createdAt: new Date(0)
})

const callbackData = (keyboard: InlineKeyboardMarkup): Array<string> =>
  keyboard.inline_keyboard.flat().flatMap((key) => ("callback_data" in key ? [key.callback_data] : []))

const labels = (keyboard: InlineKeyboardMarkup): Array<Array<string>> =>
  keyboard.inline_keyboard.map((row) => row.map((key) => key.text))

const data = (action: CallbackData.CallbackData) => CallbackData.toString(action)

describe("FeedbackViews", () => {
  it("notification - the text and ✔️ Resolve · ↩️ Reply, never who sent it", () => {
    const view = FeedbackViews.notification(item(3, "dark <mode> & more"))
    assert.strictEqual(view.text, "📬 <b>New feedback #3</b>\n\ndark &lt;mode&gt; &amp; more")
    assert.notInclude(view.text, "501")
    assert.deepStrictEqual(callbackData(view.keyboard), [
      data(CallbackData.FeedbackResolve({ feedbackId: FeedbackId.make(3) })),
      data(CallbackData.FeedbackReply({ feedbackId: FeedbackId.make(3) }))
    ])
    assert.strictEqual(FeedbackViews.resolvedNotification(item(3, "x")), "📬 <b>New feedback #3</b>\n\nx\n\n✔️ Resolved")
  })

  it("openList - items without their senders, Resolve and Reply each, paged, with a refresh", () => {
    const view = FeedbackViews.openList({ items: [item(1, "first"), item(2, "second", 502)], page: 2, totalPages: 3, total: 12 })
    assert.strictEqual(
      view.text,
      ["📬 <b>Open feedback</b> (12)", "", "<b>#1</b>", "first", "", "<b>#2</b>", "second", "", "Page 2 of 3"].join("\n")
    )
    assert.deepStrictEqual(labels(view.keyboard), [
      ["✔️ Resolve #1", "↩️ Reply #1"],
      ["✔️ Resolve #2", "↩️ Reply #2"],
      ["⬅️", "2/3", "➡️"],
      ["🔄 Refresh"]
    ])
    assert.deepStrictEqual(callbackData(view.keyboard), [
      data(CallbackData.FeedbackResolve({ feedbackId: FeedbackId.make(1) })),
      data(CallbackData.FeedbackReply({ feedbackId: FeedbackId.make(1) })),
      data(CallbackData.FeedbackResolve({ feedbackId: FeedbackId.make(2) })),
      data(CallbackData.FeedbackReply({ feedbackId: FeedbackId.make(2) })),
      data(CallbackData.FeedbackPage({ page: 1 })),
      data(CallbackData.Noop()),
      data(CallbackData.FeedbackPage({ page: 3 })),
      data(CallbackData.FeedbackPage({ page: 2 }))
    ])
    assert.isTrue(FeedbackViews.isOpenList(view.keyboard))
    assert.isFalse(FeedbackViews.isOpenList(FeedbackViews.notification(item(1, "x")).keyboard))
  })

  it("openList - nothing open", () => {
    const view = FeedbackViews.openList({ items: [], page: 1, totalPages: 1, total: 0 })
    assert.strictEqual(view.text, "📬 <b>Open feedback</b>\n\nNothing open. All caught up! 🎉")
    assert.deepStrictEqual(labels(view.keyboard), [["🔄 Refresh"]])
  })

  it("openList and notification - within 4,096 characters at the longest texts and page size 10", () => {
    const long = "&".repeat(3_800)
    const list = FeedbackViews.openList({
      items: Array.from({ length: 10 }, (_, index) => item(Number.MAX_SAFE_INTEGER - index, long, Number.MAX_SAFE_INTEGER)),
      page: 2_147_483_647,
      totalPages: 2_147_483_647,
      total: 2_147_483_647
    })
    assert.isAtMost(Html.visibleLength(list.text), Html.messageLimit)
    for (const raw of callbackData(list.keyboard)) assert.isAtMost(Buffer.byteLength(raw), CallbackData.maxBytes)
    const notice = FeedbackViews.notification(item(1, long))
    assert.isAtMost(Html.visibleLength(notice.text), Html.messageLimit)
  })

  it("textProblem / prompts - state the rule", () => {
    assert.strictEqual(Messages.textProblem(new Empty(), "feedback"), "✏️ Your feedback is empty. Please send some text, or /cancel.")
    assert.strictEqual(
      Messages.textProblem(new TooLong({ length: 1001, maxLength: 1000 }), "feedback"),
      "✏️ Your feedback has 1,001 characters; the limit is 1,000. Please shorten it and send it again, or /cancel."
    )
    assert.strictEqual(
      Messages.askFeedback(1000),
      "📝 Send your feedback for the admins in one message (up to 1,000 characters). /cancel to stop."
    )
  })
})
