// Feedback as Telegram messages: the prompt and thanks for the user, the admins' notification of a new item, and the
// admins' paged list of open items with ✔️ Resolve buttons. Pure. Feedback is not anonymous content, but admins see
// only what they need to answer it: the author's first name and Telegram id.
import type { InlineKeyboardButton } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"
import type { Page } from "../domain/Paging.ts"
import type { UserId } from "../domain/Ids.ts"
import type { FeedbackItem } from "../domain/Feedback.ts"
import { button, pager, type View } from "./Keyboards.ts"
import * as Html from "./Html.ts"

/** Who wrote an item, as admins see it. `firstName` is `undefined` when the user is unknown to us. */
export interface FeedbackAuthor {
  readonly id: UserId
  readonly firstName: string | undefined
}

/** To every admin when feedback arrives, with ✔️ Resolve. */
export const notification = (item: FeedbackItem, author: FeedbackAuthor): Required<View> => ({
  text: Html.fitMessage(notificationText(item, author)),
  keyboard: { inline_keyboard: [[button("✔️ Resolve", CallbackData.FeedbackResolve({ feedbackId: item.id }))]] }
})

/** Every admin's copy of the notification once the item is resolved; no buttons left. */
export const resolvedNotification = (item: FeedbackItem, author: FeedbackAuthor): string =>
  Html.fitMessage(`${notificationText(item, author)}\n\n✔️ Resolved`)

/** `/feedbacks`: one page of open items, oldest first, each with its ✔️ Resolve button. */
export const openList = (page: Page<FeedbackItem>, authors: ReadonlyMap<UserId, string>): Required<View> => {
  const head = `📬 <b>Open feedback</b>${page.total > 0 ? ` (${page.total})` : ""}`
  if (page.items.length === 0) return { text: `${head}\n\nNothing open. All caught up! 🎉`, keyboard: { inline_keyboard: [] } }
  const footer = page.totalPages > 1 ? `\n\nPage ${page.page} of ${page.totalPages}` : ""
  const render = (texts: ReadonlyArray<string>) =>
    `${head}\n\n` +
    page.items
      .map((item, index) =>
        [`<b>#${item.id}</b> · ${authorLine({ id: item.authorId, firstName: authors.get(item.authorId) })}`, texts[index] ?? ""].join("\n")
      )
      .join("\n\n") +
    footer
  const fixed = Html.visibleLength(render(page.items.map(() => "")))
  const budgets = Html.allocate(
    page.items.map((item) => item.text.length),
    Html.messageLimit - fixed
  )
  const text = Html.fitMessage(render(page.items.map((item, index) => Html.escapeTruncated(item.text, budgets[index] ?? 0))))
  const rows: Array<Array<InlineKeyboardButton>> = page.items.map((item) => [
    button(`✔️ Resolve #${item.id}`, CallbackData.FeedbackResolve({ feedbackId: item.id }))
  ])
  rows.push(...pager(page, (n) => CallbackData.FeedbackPage({ page: n })))
  return { text, keyboard: { inline_keyboard: rows } }
}

const notificationText = (item: FeedbackItem, author: FeedbackAuthor): string =>
  `📬 <b>New feedback #${item.id}</b>\nfrom ${authorLine(author)}\n\n${Html.escapeTruncated(item.text, 3_800)}`

const authorLine = (author: FeedbackAuthor): string =>
  `${author.firstName === undefined ? "a user" : Html.escapeTruncated(author.firstName, 64)} (id <code>${author.id}</code>)`

