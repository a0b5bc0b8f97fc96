// Comments as Telegram messages: the comments view of a confession, the replies view of a comment, "my comments",
// the admins' alert about a reported comment, and the short answers of the comment and reaction flows. Pure: domain
// data in, escaped HTML (always within 4,096 characters) and an inline keyboard out. Nothing here ever names who wrote
// a comment; a comment by the confession's own author only carries the "✍️ author" tag.
import { Option } from "effect"
import type { InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"
import type { Page } from "../domain/Paging.ts"
import type { CommentId, ConfessionId } from "../domain/Ids.ts"
import { type CommentRecord, type CommentsPage, isTombstone, type RepliesPage } from "../domain/Comment.ts"
import type { Decision } from "../domain/Reaction.ts"
import * as Html from "./Html.ts"
import { button, pager, type View } from "./Keyboards.ts"
import { contentPreview } from "./ConfessionViews.ts"
import * as Messages from "./Messages.ts"

/** How much of the confession the comments view quotes. */
export const confessionPreviewLength = 300

// ---- the comments view ------------------------------------------------------------------------------------------

/**
 * The confession's first 300 characters and one page of its top-level comments (newest first), each with its own
 * 👍 n · 👎 n · ⚠️ · 💬 row (plus ↩️ n when it has replies), the pager, and ➕ Add comment.
 */
export const commentsPage = (view: CommentsPage): Required<View> => {
  const { confession } = view
  const head = [
    `💬 <b>Comments on confession #${confession.id}</b>`,
    `<i>${Html.escapeTruncated(contentPreview(confession), confessionPreviewLength)}</i>`
  ].join("\n")
  const empty = "No comments yet. Be the first to write one!"
  const text = listText(head, view, empty, "comments", (comment) =>
    comment.replies > 0 ? [repliesLine(comment.replies)] : []
  )
  const rows: Array<Array<InlineKeyboardButton>> = view.items.map((comment, index) => [
    // A tombstone takes no reactions or reports, only replies.
    ...(isTombstone(comment)
      ? [button(`${index + 1}. 🗑`, CallbackData.Noop())]
      : reactionButtons(comment, index + 1)),
    button("💬", CallbackData.Reply({ commentId: comment.id })),
    ...(comment.replies > 0
      ? [button(`↩️ ${comment.replies}`, CallbackData.RepliesPage({ commentId: comment.id, page: 1 }))]
      : [])
  ])
  rows.push(...pager(view, (page) => CallbackData.CommentsPage({ confessionId: confession.id, page })))
  rows.push([button("➕ Add comment", CallbackData.AddComment({ confessionId: confession.id }))])
  return { text, keyboard: { inline_keyboard: rows } }
}

/** The comment replied to and one page of its replies (oldest first), with 💬 Reply and a way back. */
export const repliesPage = (view: RepliesPage): Required<View> => {
  const { parent } = view
  const head = [
    `↩️ <b>Replies to a comment on confession #${parent.confessionId}</b>`,
    isTombstone(parent)
      ? Messages.deletedComment
      : `${parent.authorTag ? `${authorTag} ` : ""}<i>${Html.escapeTruncated(parent.text, confessionPreviewLength)}</i>`
  ].join("\n")
  const text = listText(head, view, "No replies yet.", "replies", () => [])
  const rows: Array<Array<InlineKeyboardButton>> = view.items.map((reply, index) => reactionButtons(reply, index + 1))
  rows.push(...pager(view, (page) => CallbackData.RepliesPage({ commentId: parent.id, page })))
  rows.push([
    button("💬 Reply", CallbackData.Reply({ commentId: parent.id })),
    button("⬅️ All comments", CallbackData.CommentsPage({ confessionId: parent.confessionId, page: 1 }))
  ])
  return { text, keyboard: { inline_keyboard: rows } }
}

/** "My comments": the user's own comments and replies, newest first, each with the confession it belongs to. */
export const myComments = (view: Page<CommentRecord>): Required<View> => {
  const head = `💬 <b>My comments</b>${view.total > 0 ? ` (${view.total})` : ""}`
  const empty = "You haven't written any comments yet. Open a confession from the channel to join the conversation."
  const text = listText(
    head,
    view,
    empty,
    "comments",
    (comment) => [
      `<i>${comment.parentId === null ? "on" : "↩️ a reply on"} confession #${comment.confessionId}</i> · 👍 ${comment.likes} · 👎 ${comment.dislikes}`
    ],
    "before"
  )
  // One button per confession on the page, to jump to its comments.
  const confessions = [...new Set(view.items.map((comment) => comment.confessionId))]
  const rows: Array<Array<InlineKeyboardButton>> = chunk(
    confessions.map((id) => button(`💬 #${id}`, CallbackData.CommentsPage({ confessionId: id, page: 1 }))),
    4
  )
  rows.push(...pager(view, (page) => CallbackData.MyCommentsPage({ page })))
  return { text, keyboard: { inline_keyboard: rows } }
}


// ---- answers of the comment flows ---------------------------------------------------------------------------------

export const authorTag = "✍️ <i>author</i>"

export const commentAdded = (confessionId: ConfessionId): Required<View> => ({
  text: `✅ Your comment on confession #${confessionId} is posted.`,
  keyboard: { inline_keyboard: [[button("💬 View comments", CallbackData.CommentsPage({ confessionId, page: 1 }))]] }
})

export const replyAdded = (parentId: CommentId): Required<View> => ({
  text: "✅ Your reply is posted.",
  keyboard: { inline_keyboard: [[button("↩️ View replies", CallbackData.RepliesPage({ commentId: parentId, page: 1 }))]] }
})

/** To the confession's author; says nothing about who commented. */
export const newCommentNotice = (confessionId: ConfessionId): Required<View> => ({
  text: `💬 Someone commented on your confession #${confessionId}`,
  keyboard: { inline_keyboard: [[button("💬 View comments", CallbackData.CommentsPage({ confessionId, page: 1 }))]] }
})

/**
 * A comment (or reply) the privacy check flagged: the text as it would appear, what was found (by kind), and the
 * choice between ✏️ Edit and ✅ Post anyway.
 */
export const privacyCheck = (text: string, kinds: ReadonlyArray<string>, what: "comment" | "reply"): Required<View> => ({
  text: Html.fitMessage(
    `👀 <b>Your ${what}</b>\n\n<i>${Html.escapeTruncated(text, 3_000)}</i>\n\n` +
      `${kinds.map(Messages.privacyWarning).join("\n")}\n${Messages.privacyAdvice}`
  ),
  keyboard: {
    inline_keyboard: [[button("✏️ Edit", CallbackData.CommentEdit()), button("✅ Post anyway", CallbackData.CommentPost())]]
  }
})

/** To the writer of a comment that got a reply; says nothing about who replied. */
export const newReplyNotice = (confessionId: ConfessionId, parentId: CommentId): Required<View> => ({
  text: `↩️ Someone replied to your comment on confession #${confessionId}`,
  keyboard: { inline_keyboard: [[button("↩️ View replies", CallbackData.RepliesPage({ commentId: parentId, page: 1 }))]] }
})

// ---- reactions and reports ----------------------------------------------------------------------------------------

/**
 * The pressed message's keyboard with only `commentId`'s 👍 n / 👎 n labels set to the counts the press stored;
 * every other button (other comments' counts included) stays as Telegram sent it. `undefined` when the keyboard
 * shows no counts for that comment (a forged press, or a message laid out by an older version): re-render then.
 * Lets a press update its counts with one keyboard edit instead of re-reading and re-rendering the page.
 */
export const withReactionCounts = (
  keyboard: InlineKeyboardMarkup,
  commentId: CommentId,
  counts: { readonly likes: number; readonly dislikes: number }
): InlineKeyboardMarkup | undefined => {
  const like = CallbackData.toString(CallbackData.Like({ commentId }))
  const dislike = CallbackData.toString(CallbackData.Dislike({ commentId }))
  /** The key with its new label, or `undefined` when it is not one of the comment's two count buttons. */
  const relabel = (key: InlineKeyboardButton): InlineKeyboardButton | undefined => {
    if (!("callback_data" in key)) return undefined
    if (key.callback_data === like) {
      const number = likeLabelPattern.exec(key.text)?.[1]
      return number === undefined ? undefined : { ...key, text: likeLabel(Number(number), counts.likes) }
    }
    if (key.callback_data === dislike && dislikeLabelPattern.test(key.text)) {
      return { ...key, text: dislikeLabel(counts.dislikes) }
    }
    return undefined
  }
  const rows = keyboard.inline_keyboard.map((row) => row.map((key) => ({ key, relabelled: relabel(key) })))
  // Both buttons, once each: anything else is not a keyboard this module rendered for the comment.
  const found = rows.flat().filter((entry) => entry.relabelled !== undefined).length
  if (found !== 2) return undefined
  return { inline_keyboard: rows.map((row) => row.map((entry) => entry.relabelled ?? entry.key)) }
}

/** To every admin when a comment reaches REPORT_THRESHOLD: the comment by its ids only, with 🙈 Hide · ✔️ Keep. */
export const reportAlert = (comment: CommentRecord): Required<View> => ({
  text: Html.fitMessage(
    `${reportHead(comment)}\n\nHide it from every view, or keep it. ` +
      `<code>/block m${comment.id}</code> blocks its author without revealing who it is.`
  ),
  keyboard: {
    inline_keyboard: [
      [
        button("🙈 Hide", CallbackData.HideComment({ commentId: comment.id })),
        button("✔️ Keep", CallbackData.KeepComment({ commentId: comment.id }))
      ]
    ]
  }
})

/**
 * `/reports`: reported comments nobody decided on yet, oldest first, each with its report count, confession and
 * 🙈 / ✔️ buttons; ⬅️ / ➡️ and 🔄 to look again. Never who wrote them.
 */
export const reportsPage = (view: Page<CommentRecord>): Required<View> => {
  const head = `⚠️ <b>Reported comments</b>${view.total > 0 ? ` (${view.total})` : ""}`
  const text = listText(head, view, "Nothing reported is waiting. 🎉", "comments", (comment) => [
    `<i>#${comment.id} on confession #${comment.confessionId}</i> · ⚠️ ${comment.reports}`
  ], "before")
  const rows: Array<Array<InlineKeyboardButton>> = view.items.map((comment, index) => [
    button(`🙈 Hide ${index + 1}`, CallbackData.HideComment({ commentId: comment.id })),
    button(`✔️ Keep ${index + 1}`, CallbackData.KeepComment({ commentId: comment.id }))
  ])
  rows.push(...pager(view, (page) => CallbackData.ReportsPage({ page })))
  rows.push([button("🔄 Refresh", CallbackData.ReportsPage({ page: view.page }))])
  return { text, keyboard: { inline_keyboard: rows } }
}

/** Whether a pressed keyboard is a `/reports` list (its 🔄 button), rather than an admin's copy of an alert. */
export const isReportsList = (keyboard: InlineKeyboardMarkup | undefined): boolean =>
  (keyboard?.inline_keyboard ?? []).some((row) =>
    row.some((key) => "callback_data" in key && CallbackData.fromString(key.callback_data).pipe(Option.exists(CallbackData.$is("ReportsPage"))))
  )

/** Every admin's copy of the alert once one of them decided; no buttons left to press. */
export const reportDecided = (comment: CommentRecord, decision: Decision): string =>
  Html.fitMessage(`${reportHead(comment)}\n\n${Messages.decisionToast(decision)}`)

// ---- private ------------------------------------------------------------------------------------------------------

const reportHead = (comment: CommentRecord): string =>
  [
    `⚠️ <b>Reported comment #${comment.id}</b> on confession #${comment.confessionId} ` +
      `(${comment.reports} ${comment.reports === 1 ? "report" : "reports"})`,
    "",
    // The alert shows at most this much, so the whole message stays well within Telegram's limit.
    Html.escapeTruncated(comment.text, 3_500)
  ].join("\n")

const repliesLine = (replies: number): string => `↩️ ${replies} ${replies === 1 ? "reply" : "replies"}`

/** 👍 n · 👎 n · ⚠️ for one comment; the first button carries the comment's number on the page. */
const reactionButtons = (comment: CommentRecord, number: number): Array<InlineKeyboardButton> => [
  button(likeLabel(number, comment.likes), CallbackData.Like({ commentId: comment.id })),
  button(dislikeLabel(comment.dislikes), CallbackData.Dislike({ commentId: comment.id })),
  button("⚠️", CallbackData.Report({ commentId: comment.id }))
]

// The labels of the reaction buttons, and their shapes as `withReactionCounts` recognises them.
const likeLabel = (number: number, likes: number): string => `${number}. 👍 ${likes}`
const dislikeLabel = (dislikes: number): string => `👎 ${dislikes}`
const likeLabelPattern = /^([1-9][0-9]{0,5})\. 👍 [0-9]+$/u
const dislikeLabelPattern = /^👎 [0-9]+$/u

/**
 * A numbered list under a heading, with the page line at the end, within Telegram's limit for any number and length
 * of comments: everything but the comment texts is rendered first, and the characters left are split among the texts.
 * `extra` lines go after the text, or before it with `extraPosition: "before"`.
 */
const listText = (
  head: string,
  view: Page<CommentRecord>,
  empty: string,
  noun: "comments" | "replies",
  extra: (comment: CommentRecord) => ReadonlyArray<string>,
  extraPosition: "before" | "after" = "after"
): string => {
  if (view.items.length === 0) return Html.fitMessage(`${head}\n\n${empty}`)
  const footer = view.totalPages > 1 ? `\n\nPage ${view.page} of ${view.totalPages} · ${view.total} ${noun}` : ""
  const render = (texts: ReadonlyArray<string>) =>
    head +
    "\n\n" +
    view.items
      .map((comment, index) => {
        const title = `<b>${index + 1}.</b>${comment.authorTag ? ` ${authorTag}` : ""}`
        const lines = extraPosition === "before"
          ? [title, ...extra(comment), texts[index] ?? ""]
          : [title, texts[index] ?? "", ...extra(comment)]
        return lines.join("\n")
      })
      .join("\n\n") +
    footer
  // A tombstone's line is fixed text, like the titles.
  const fixed = Html.visibleLength(render(view.items.map((comment) => (isTombstone(comment) ? Messages.deletedComment : ""))))
  const budgets = Html.allocate(
    view.items.map((comment) => comment.text.length),
    Html.messageLimit - fixed
  )
  return Html.fitMessage(
    render(
      view.items.map((comment, index) =>
        isTombstone(comment) ? Messages.deletedComment : Html.escapeTruncated(comment.text, budgets[index] ?? 0)
      )
    )
  )
}

const chunk = <A>(items: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const rows: Array<Array<A>> = []
  for (let start = 0; start < items.length; start += size) rows.push(items.slice(start, start + size))
  return rows
}

