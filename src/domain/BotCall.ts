// A Bot API call the bot makes on its own: what the outbox stores (as JSON, in the same transaction as the write that
// causes it) and the courier performs later. Rendered HTML and keyboards only, so delivery needs no view; the one
// thing a call may leave open is a message id that another outbox row's send produces (an admin's copy to edit, a
// channel post to delete, a post link to mention).
import { Schema } from "effect"
import type { Media } from "./Confession.ts"

export const ChatId = Schema.Union([Schema.Number, Schema.String])
export type ChatId = typeof ChatId.Type

const InlineButton = Schema.Struct({
  text: Schema.String,
  callback_data: Schema.optionalKey(Schema.String),
  url: Schema.optionalKey(Schema.String)
})

export const InlineKeyboard = Schema.Struct({ inline_keyboard: Schema.Array(Schema.Array(InlineButton)) })
export type InlineKeyboard = typeof InlineKeyboard.Type

const ReplyKeyboard = Schema.Struct({
  keyboard: Schema.Array(Schema.Array(Schema.Struct({ text: Schema.String }))),
  resize_keyboard: Schema.optionalKey(Schema.Boolean),
  is_persistent: Schema.optionalKey(Schema.Boolean)
})

export const Markup = Schema.Union([InlineKeyboard, ReplyKeyboard])
export type Markup = typeof Markup.Type

/**
 * Text that names a channel post by its link once the post exists: `template` with `{link}` where the link goes,
 * used when the post's row was delivered and the channel has links; `text` otherwise.
 */
const PostLinked = Schema.Struct({ template: Schema.String, channelId: Schema.String })

export const BotCall = Schema.TaggedUnion({
  SendMessage: {
    chatId: ChatId,
    text: Schema.String,
    markup: Schema.optionalKey(Markup),
    postLinked: Schema.optionalKey(PostLinked)
  },
  SendPhoto: { chatId: ChatId, fileId: Schema.String, caption: Schema.String, markup: Schema.optionalKey(Markup) },
  SendVoice: { chatId: ChatId, fileId: Schema.String, caption: Schema.String, markup: Schema.optionalKey(Markup) },
  /**
   * Without `messageId`, the message the parent row sent. Omitting `keyboard` drops the inline keyboard. With
   * `sendIfGone`, a message that can no longer be edited (deleted, too old) gets the text as a new message instead.
   */
  EditText: {
    chatId: ChatId,
    messageId: Schema.optionalKey(Schema.Number),
    text: Schema.String,
    keyboard: Schema.optionalKey(InlineKeyboard),
    sendIfGone: Schema.optionalKey(Schema.Boolean)
  },
  EditCaption: {
    chatId: ChatId,
    messageId: Schema.optionalKey(Schema.Number),
    caption: Schema.String,
    keyboard: Schema.optionalKey(InlineKeyboard)
  },
  EditKeyboard: { chatId: ChatId, messageId: Schema.optionalKey(Schema.Number), keyboard: InlineKeyboard },
  Delete: { chatId: ChatId, messageId: Schema.optionalKey(Schema.Number) },
  AnswerCallback: {
    callbackQueryId: Schema.String,
    text: Schema.optionalKey(Schema.String),
    alert: Schema.optionalKey(Schema.Boolean)
  }
})
export type BotCall = typeof BotCall.Type

export const BotCallFromJson = Schema.fromJsonString(BotCall)

/** The chat a call writes to (`undefined` for a callback answer, which goes to whoever pressed). */
export const chatOf = (call: BotCall): ChatId | undefined => ("chatId" in call ? call.chatId : undefined)

/** Whether the call needs the message id that its parent row's send produced. */
export const needsParentMessage = (call: BotCall): boolean =>
  (call._tag === "EditText" || call._tag === "EditCaption" || call._tag === "EditKeyboard" || call._tag === "Delete") &&
  call.messageId === undefined

/** The call with its open message id filled in from the parent's send. */
export const withParentMessage = (call: BotCall, messageId: number): BotCall => {
  if (!needsParentMessage(call)) return call
  switch (call._tag) {
    case "EditText":
    case "EditCaption":
    case "EditKeyboard":
    case "Delete":
      return { ...call, messageId }
    default:
      return call
  }
}

export const sendMessage = (chatId: ChatId, text: string, markup?: Markup): BotCall =>
  BotCall.cases.SendMessage.make(markup === undefined ? { chatId, text } : { chatId, text, markup })

/**
 * Edits `messageId` to `text` (and `keyboard`, or none). Without `messageId`: the parent row's message; as an answer to
 * a button whose message Telegram no longer names, there is nothing to edit, so the text is sent as a new message.
 */
export const editText = (
  chatId: ChatId,
  messageId: number | undefined,
  text: string,
  options: { readonly keyboard?: InlineKeyboard | undefined; readonly sendIfGone?: boolean } = {}
): BotCall =>
  BotCall.cases.EditText.make({
    chatId,
    text,
    ...(messageId === undefined ? {} : { messageId }),
    ...(options.keyboard === undefined ? {} : { keyboard: options.keyboard }),
    ...(options.sendIfGone === true ? { sendIfGone: true } : {})
  })

/** The answer to a button in place: edits the message it was on, or sends the text when there is none to edit. */
export const showInPlace = (chatId: ChatId, messageId: number | undefined, text: string, markup?: InlineKeyboard): BotCall =>
  messageId === undefined
    ? sendMessage(chatId, text, markup)
    : editText(chatId, messageId, text, { keyboard: markup, sendIfGone: true })

export const answerCallback = (callbackQueryId: string, text?: string, alert?: boolean): BotCall =>
  BotCall.cases.AnswerCallback.make({
    callbackQueryId,
    ...(text === undefined ? {} : { text }),
    ...(alert === undefined ? {} : { alert })
  })

/**
 * The edit that makes a message sent by `call` show what `call` sends now: the text, or the caption of a photo or voice
 * note, with its inline keyboard. Without `messageId`, the message the parent row sent. `undefined` for a call that
 * sends no message.
 */
export const editOf = (call: BotCall, messageId: number | undefined): BotCall | undefined => {
  const target = messageId === undefined ? {} : { messageId }
  const keyboard = (markup: Markup | undefined) => (markup !== undefined && "inline_keyboard" in markup ? { keyboard: markup } : {})
  switch (call._tag) {
    case "SendMessage":
      return BotCall.cases.EditText.make({ chatId: call.chatId, ...target, text: call.text, ...keyboard(call.markup) })
    case "SendPhoto":
    case "SendVoice":
      return BotCall.cases.EditCaption.make({ chatId: call.chatId, ...target, caption: call.caption, ...keyboard(call.markup) })
    default:
      return undefined
  }
}

/** A rendered message: HTML text and keyboard, or a photo or voice note with the text as its caption. */
export interface Rendered {
  readonly text: string
  readonly keyboard?: InlineKeyboard | undefined
  readonly media?: Media | null | undefined
}

/** Sends a rendered message: `sendMessage`, or `sendPhoto` / `sendVoice` by the media's `file_id`. */
export const send = (chatId: ChatId, message: Rendered): BotCall => {
  const markup = message.keyboard === undefined ? {} : { markup: message.keyboard }
  if (message.media === undefined || message.media === null) return sendMessage(chatId, message.text, message.keyboard)
  return message.media.kind === "photo"
    ? BotCall.cases.SendPhoto.make({ chatId, fileId: message.media.fileId, caption: message.text, ...markup })
    : BotCall.cases.SendVoice.make({ chatId, fileId: message.media.fileId, caption: message.text, ...markup })
}

/**
 * Replaces `messageId` with a rendered message of the same kind: its text, or a media message's caption (Telegram
 * cannot turn one into the other). Without `messageId`: the parent row's message.
 */
export const edit = (chatId: ChatId, messageId: number | undefined, message: Rendered): BotCall =>
  message.media === undefined || message.media === null
    ? editText(chatId, messageId, message.text, { keyboard: message.keyboard })
    : editCaption(chatId, messageId, message.text, message.keyboard)

/** Replaces a photo's or voice note's caption (and its keyboard, or none). Without `messageId`: the parent's message. */
export const editCaption = (
  chatId: ChatId,
  messageId: number | undefined,
  caption: string,
  keyboard?: InlineKeyboard
): BotCall =>
  BotCall.cases.EditCaption.make({
    chatId,
    caption,
    ...(messageId === undefined ? {} : { messageId }),
    ...(keyboard === undefined ? {} : { keyboard })
  })
