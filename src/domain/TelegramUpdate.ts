// The edge check for updates from Telegram (polling, webhook, the inbox): the subset of an `Update` the bot reads, as a
// Schema, so that a malformed update (`{"update_id":1,"message":{}}`, a button press without `from`) is a value to log,
// count, record and skip instead of a crash deep in a handler. Pure. What passes is the ORIGINAL object, unknown fields
// included; strings are not judged here (NUL, lone surrogates, 10,000-character names are valid updates that the
// layers reading them must cope with).
import { Data, Result, Schema, SchemaIssue } from "effect"
import type { Update } from "grammy/types"
import { UpdateId, UserId } from "./Ids.ts"

/** Chat ids are negative for groups and channels; any safe integer. */
const ChatId = Schema.Int

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

const User = Schema.Struct({
  // The router turns it into a `UserId`, which must be a positive safe integer.
  id: UserId,
  is_bot: Schema.Boolean,
  first_name: Schema.String,
  last_name: Schema.optionalKey(Schema.String),
  username: Schema.optionalKey(Schema.String)
})

const Chat = Schema.Struct({ id: ChatId, type: Schema.String })

const MessageEntity = Schema.Struct({ type: Schema.String, offset: Count, length: Count })

const PhotoSize = Schema.Struct({
  file_id: Schema.String,
  file_unique_id: Schema.String,
  width: Count,
  height: Count,
  file_size: Schema.optionalKey(Count)
})

const Voice = Schema.Struct({
  file_id: Schema.String,
  file_unique_id: Schema.String,
  duration: Count,
  mime_type: Schema.optionalKey(Schema.String),
  file_size: Schema.optionalKey(Count)
})

const Document = Schema.Struct({
  file_id: Schema.String,
  file_unique_id: Schema.String,
  mime_type: Schema.optionalKey(Schema.String)
})

/** Media we only refuse: their presence is all we read. */
const AnyFile = Schema.Struct({ file_id: Schema.String })

/** The keyboard of the message a button was pressed on: features read its labels and callback data. */
const InlineKeyboard = Schema.Struct({
  inline_keyboard: Schema.Array(
    Schema.Array(
      Schema.Struct({
        text: Schema.String,
        callback_data: Schema.optionalKey(Schema.String),
        url: Schema.optionalKey(Schema.String)
      })
    )
  )
})

/**
 * A message, or the "inaccessible message" (chat, message_id, date 0) a button press may carry instead: every field
 * beyond those three is optional.
 */
const Message = Schema.Struct({
  message_id: Schema.Int,
  date: Count,
  chat: Chat,
  from: Schema.optionalKey(User),
  text: Schema.optionalKey(Schema.String),
  entities: Schema.optionalKey(Schema.Array(MessageEntity)),
  caption: Schema.optionalKey(Schema.String),
  caption_entities: Schema.optionalKey(Schema.Array(MessageEntity)),
  // Telegram always sends at least one size; an empty list would leave nothing to re-send.
  photo: Schema.optionalKey(Schema.NonEmptyArray(PhotoSize)),
  voice: Schema.optionalKey(Voice),
  document: Schema.optionalKey(Document),
  sticker: Schema.optionalKey(AnyFile),
  video: Schema.optionalKey(AnyFile),
  video_note: Schema.optionalKey(AnyFile),
  animation: Schema.optionalKey(AnyFile),
  audio: Schema.optionalKey(AnyFile),
  media_group_id: Schema.optionalKey(Schema.String),
  reply_markup: Schema.optionalKey(InlineKeyboard)
})

const CallbackQuery = Schema.Struct({
  id: Schema.String,
  from: User,
  message: Schema.optionalKey(Message),
  data: Schema.optionalKey(Schema.String)
})

/** The subset of a Telegram `Update` the bot relies on. Every other field is left alone (and kept). */
export const TelegramUpdate = Schema.Struct({
  // Recorded as processed under this id, so it must be what `UpdateId` accepts.
  update_id: UpdateId,
  message: Schema.optionalKey(Message),
  callback_query: Schema.optionalKey(CallbackQuery)
})

/** The update kinds the bot handles. */
export type OursKind = "message" | "callback_query"

/** Every update kind of the Bot API, for metrics labels; anything else is "unknown" (labels stay bounded). */
const knownKinds = [
  "message",
  "callback_query",
  "edited_message",
  "channel_post",
  "edited_channel_post",
  "business_connection",
  "business_message",
  "edited_business_message",
  "deleted_business_messages",
  "guest_message",
  "stopped_message_generation",
  "message_reaction",
  "message_reaction_count",
  "inline_query",
  "chosen_inline_result",
  "shipping_query",
  "pre_checkout_query",
  "purchased_paid_media",
  "poll",
  "poll_answer",
  "my_chat_member",
  "chat_member",
  "chat_join_request",
  "chat_boost",
  "removed_chat_boost",
  "managed_bot",
  "subscription"
] as const

export type Kind = (typeof knownKinds)[number] | "unknown"

/** A well-formed update: one the bot handles (`Ours`), or one it ignores silently (`NotOurs`). */
export type Checked = Data.TaggedEnum<{
  Ours: { readonly update: Update; readonly kind: OursKind }
  NotOurs: { readonly update: Update; readonly kind: Kind }
}>

export const { $is, $match, NotOurs, Ours } = Data.taggedEnum<Checked>()

/**
 * Why an update was refused, in one short line naming the field and the rule ("message.chat: Missing key"), never a
 * value from the update (which could be someone's text or name). `updateId` when the update has a usable one, so it
 * can be recorded as processed.
 */
export class InvalidUpdate extends Data.TaggedClass("InvalidUpdate")<{
  readonly updateId: UpdateId | undefined
  readonly reason: string
}> {}

/** Longest `reason`: a log line, not a report. */
export const reasonMaxLength = 200

const decode = Schema.decodeUnknownResult(TelegramUpdate)
const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Checks one update as Telegram sent it (already parsed from JSON). Besides the Schema, the Bot API's rule that an
 * update carries at most one kind: an update with both a message and a button press is refused rather than guessed.
 */
export const check = (input: unknown): Result.Result<Checked, InvalidUpdate> => {
  const decoded = decode(input)
  if (Result.isFailure(decoded)) {
    return Result.fail(new InvalidUpdate({ updateId: usableId(input), reason: describe(decoded.failure.issue) }))
  }
  // The Schema has checked every field the bot reads; the rest of grammY's `Update` is optional, so the original
  // object (with the fields the Schema does not know, which `decode` dropped) is the update to hand on.
  const update = input as Update
  const present = knownKinds.filter((kind) => kind in update)
  if (present.length > 1) {
    return Result.fail(
      new InvalidUpdate({ updateId: decoded.success.update_id, reason: `more than one update kind: ${present.join(", ")}` })
    )
  }
  const kind = present[0] ?? "unknown"
  return Result.succeed(kind === "message" || kind === "callback_query" ? Ours({ update, kind }) : NotOurs({ update, kind }))
}

const describe = (issue: SchemaIssue.Issue): string => {
  const first = formatIssue(issue).issues[0]
  if (first === undefined) return "invalid update"
  const path = first.path?.map((key) => String(typeof key === "object" ? key.key : key)).join(".") ?? ""
  const line = path === "" ? first.message : `${path}: ${first.message}`
  return line.length > reasonMaxLength ? `${line.slice(0, reasonMaxLength - 1)}…` : line
}

const usableId = (input: unknown): UpdateId | undefined => {
  if (typeof input !== "object" || input === null || !("update_id" in input)) return undefined
  const id = Schema.decodeUnknownOption(UpdateId)(input.update_id)
  return id._tag === "Some" ? id.value : undefined
}
