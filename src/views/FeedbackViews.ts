// Feedback as Telegram messages: the admins' notification of a new item and their paged list of open items, each with
// ✔️ Resolve and ↩️ Reply. Pure. Admins never see who sent an item (a blocked user's appeal must not link them to the
// content they were blocked for): they answer through the bot, which relays the answer.
import { Option } from "effect"
import type { InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"
import type { Page } from "../domain/Paging.ts"
import type { FeedbackItem } from "../domain/Feedback.ts"
import { button, pager, type View } from "./Keyboards.ts"
import * as Html from "./Html.ts"

/** ✔️ Resolve · ↩️ Reply for one item. */
const itemButtons = (item: FeedbackItem, suffix = ""): Array<InlineKeyboardButton> => [
  button(`✔️ Resolve${suffix}`, CallbackData.FeedbackResolve({ feedbackId: item.id })),
  button(`↩️ Reply${suffix}`, CallbackData.FeedbackReply({ feedbackId: item.id }))
]

/** To every admin when feedback arrives, with ✔️ Resolve and ↩️ Reply. Never who sent it. */
export const notification = (item: FeedbackItem): Required<View> => ({
  text: Html.fitMessage(notificationText(item)),
  keyboard: { inline_keyboard: [itemButtons(item)] }
})

/** Every admin's copy of the notification once the item is resolved; no buttons left. */
export const resolvedNotification = (item: FeedbackItem): string =>
  Html.fitMessage(`${notificationText(item)}\n\n✔️ Resolved`)

/** `/feedbacks`: one page of open items, oldest first, each with its ✔️ Resolve and ↩️ Reply buttons, and 🔄. */
export const openList = (page: Page<FeedbackItem>): Required<View> => {
  const head = `📬 <b>Open feedback</b>${page.total > 0 ? ` (${page.total})` : ""}`
  const refresh = [button("🔄 Refresh", CallbackData.FeedbackPage({ page: page.page }))]
  if (page.items.length === 0) {
    return { text: `${head}\n\nNothing open. All caught up! 🎉`, keyboard: { inline_keyboard: [refresh] } }
  }
  const footer = page.totalPages > 1 ? `\n\nPage ${page.page} of ${page.totalPages}` : ""
  const render = (texts: ReadonlyArray<string>) =>
    `${head}\n\n` + page.items.map((item, index) => `<b>#${item.id}</b>\n${texts[index] ?? ""}`).join("\n\n") + footer
  const fixed = Html.visibleLength(render(page.items.map(() => "")))
  const budgets = Html.allocate(
    page.items.map((item) => item.text.length),
    Html.messageLimit - fixed
  )
  const text = Html.fitMessage(render(page.items.map((item, index) => Html.escapeTruncated(item.text, budgets[index] ?? 0))))
  const rows: Array<Array<InlineKeyboardButton>> = page.items.map((item) => itemButtons(item, ` #${item.id}`))
  rows.push(...pager(page, (n) => CallbackData.FeedbackPage({ page: n })))
  rows.push(refresh)
  return { text, keyboard: { inline_keyboard: rows } }
}

/** Whether a pressed keyboard is the `/feedbacks` list (its 🔄 button), rather than an admin's copy of a notification. */
export const isOpenList = (keyboard: InlineKeyboardMarkup | undefined): boolean =>
  (keyboard?.inline_keyboard ?? []).some((row) =>
    row.some(
      (key) =>
        "callback_data" in key && Option.exists(CallbackData.fromString(key.callback_data), CallbackData.$is("FeedbackPage"))
    )
  )

const notificationText = (item: FeedbackItem): string =>
  `📬 <b>New feedback #${item.id}</b>\n\n${Html.escapeTruncated(item.text, 3_800)}`
