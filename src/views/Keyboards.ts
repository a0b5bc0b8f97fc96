// Keyboards the bot shows: the main reply keyboard (its labels double as commands through the router's button-text
// aliases) and inline keyboards whose callback data always comes from `CallbackData.toString`, so every button fits
// Telegram's 64-byte limit and decodes back on the way in. Pure.
import type { InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"

/** A rendered message, ready to send or to edit in place: HTML text (escaped, within Telegram's limit) and its optional
 * inline keyboard. */
export interface View {
  readonly text: string
  readonly keyboard?: InlineKeyboardMarkup
}

/** The main reply keyboard's labels; the router maps each to a command. */
export const labels = {
  confess: "✍️ Confess",
  profile: "👤 Profile",
  help: "ℹ️ Help"
} as const

/** ✍️ Confess · 👤 Profile · ℹ️ Help, always at hand under the input field. */
export const main: ReplyKeyboardMarkup = {
  keyboard: [[{ text: labels.confess }, { text: labels.profile }, { text: labels.help }]],
  resize_keyboard: true,
  is_persistent: true
}

export const button = (text: string, action: CallbackData.CallbackData): InlineKeyboardButton.CallbackButton => ({
  text,
  callback_data: CallbackData.toString(action)
})

export const urlButton = (text: string, url: string): InlineKeyboardButton.UrlButton => ({ text, url })

export const inline = (rows: ReadonlyArray<ReadonlyArray<InlineKeyboardButton>>): InlineKeyboardMarkup => ({
  inline_keyboard: rows.filter((row) => row.length > 0).map((row) => [...row])
})

/** The label of the page counter button (`Noop`): "2/5". */
export const pageCounter = (page: number, totalPages: number): string => `${page}/${totalPages}`

/**
 * The page a list view built with `pager` is showing, read back from its own keyboard (Telegram sends the
 * message's keyboard with every button press): the page counter's number, or 1 when the list has a single page.
 * Lets a button that changes one item (a like, a resolve) re-render the page the user is looking at.
 */
export const pageShown = (keyboard: InlineKeyboardMarkup | undefined): number => {
  const noop = CallbackData.toString(CallbackData.Noop())
  for (const row of keyboard?.inline_keyboard ?? []) {
    for (const key of row) {
      if ("callback_data" in key && key.callback_data === noop) {
        const page = /^([1-9][0-9]{0,9})\/[0-9]+$/.exec(key.text)?.[1]
        if (page !== undefined) return Number(page)
      }
    }
  }
  return 1
}

/** ⬅️ · n/N · ➡️ when the list has more than one page; nothing otherwise. */
export const pager = (
  view: { readonly page: number; readonly totalPages: number },
  to: (page: number) => CallbackData.CallbackData
): Array<Array<InlineKeyboardButton>> => {
  if (view.totalPages <= 1) return []
  return [
    [
      ...(view.page > 1 ? [button("⬅️", to(view.page - 1))] : []),
      button(pageCounter(view.page, view.totalPages), CallbackData.Noop()),
      ...(view.page < view.totalPages ? [button("➡️", to(view.page + 1))] : [])
    ]
  ]
}
