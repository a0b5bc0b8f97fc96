// Keyboards the bot shows: the main reply keyboard (its labels double as commands through the router's button-text
// aliases) and inline keyboards whose callback data always comes from `CallbackData.toString`, so every button fits
// Telegram's 64-byte limit and decodes back on the way in. Pure.
import type { InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"

/** A rendered message: HTML text (escaped, within Telegram's limit) and its optional inline keyboard. */
export interface View {
  readonly text: string
  readonly keyboard?: InlineKeyboardMarkup | undefined
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

/**
 * ⬅️ / ➡️ for a 1-based page of `totalPages`; empty on a single page. A view never builds page 0 (it would not
 * decode), so the arrows appear only where there is somewhere to go.
 */
export const pager = (
  page: number,
  totalPages: number,
  toAction: (page: number) => CallbackData.CallbackData
): ReadonlyArray<InlineKeyboardButton.CallbackButton> => [
  ...(page > 1 ? [button("⬅️", toAction(page - 1))] : []),
  ...(page < totalPages ? [button("➡️", toAction(page + 1))] : [])
]
