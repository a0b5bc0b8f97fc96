// Tombstones in the comment views: a comment whose writer erased their data (/forget) while others' replies hung
// under it shows as "deleted comment", with its replies and a reply button, and without reactions or reports.
import { assert, describe, it } from "@effect/vitest"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { type CommentRecord, isAuthorTag, isTombstone } from "../../src/domain/Comment.ts"
import { CommentId, ConfessionId, UserId } from "../../src/domain/Ids.ts"
import * as CommentViews from "../../src/views/CommentViews.ts"
import * as Html from "../../src/views/Html.ts"
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

const tombstone = comment(8, "", { replies: 2 })

describe("CommentViews (tombstones)", () => {
  it("isTombstone / isAuthorTag - no text means a tombstone; a forgotten author is nobody's author", () => {
    assert.isTrue(isTombstone(tombstone))
    assert.isFalse(isTombstone(comment(1, "x")))
    assert.isFalse(isAuthorTag(null, null))
    assert.isFalse(isAuthorTag(null, UserId.make(1)))
    assert.isFalse(isAuthorTag(UserId.make(1), null))
  })

  it("commentsPage - the tombstone in its place, with its replies, a reply button and no reactions", () => {
    const view = CommentViews.commentsPage({
      confession: { id: confessionId, text: "My confession", media: null },
      items: [comment(9, "newer"), tombstone],
      page: 1,
      totalPages: 1,
      total: 2
    })
    assert.include(view.text, `<b>1.</b>\nnewer\n\n<b>2.</b>\n${Messages.deletedComment}\n↩️ 2 replies`)
    const rows = view.keyboard.inline_keyboard.map((row) =>
      row.map((key) => [key.text, "callback_data" in key ? key.callback_data : ""])
    )
    assert.deepStrictEqual(rows[1], [
      ["2. 🗑", CallbackData.toString(CallbackData.Noop())],
      ["💬", CallbackData.toString(CallbackData.Reply({ commentId: tombstone.id }))],
      ["↩️ 2", CallbackData.toString(CallbackData.RepliesPage({ commentId: tombstone.id, page: 1 }))]
    ])
  })

  it("commentsPage - a full page of long comments and a tombstone stays within the limit", () => {
    const view = CommentViews.commentsPage({
      confession: { id: confessionId, text: "c".repeat(3500), media: null },
      items: [comment(1, "a".repeat(1000)), tombstone, comment(3, "b".repeat(1000)), comment(4, "<".repeat(1000))],
      page: 1,
      totalPages: 3,
      total: 12
    })
    assert.isAtMost(Html.visibleLength(view.text), Html.messageLimit)
    assert.include(view.text, Messages.deletedComment)
  })

  it("repliesPage / askReply - the tombstone as the parent", () => {
    const view = CommentViews.repliesPage({
      parent: tombstone,
      items: [comment(10, "a reply", { parentId: tombstone.id })],
      page: 1,
      totalPages: 1,
      total: 1
    })
    assert.include(view.text, `Replies to a comment on confession #42</b>\n${Messages.deletedComment}\n\n<b>1.</b>\na reply`)
    assert.include(Messages.askReply(tombstone, 1000), `characters):\n${Messages.deletedComment}\n\nReplies never`)
  })
})
