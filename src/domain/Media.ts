// What a message sent as a confession is (text, photo, voice note, or something we refuse) and the rules for media:
// the caption fits the channel post's caption whole, a voice note is not longer than the configured maximum. Pure;
// media are re-sent by `file_id` (never forwarded: a forward names the sender), so only ids and lengths matter here.
import { Data, Result } from "effect"
import type { Message, PhotoSize } from "grammy/types"
import { captionLimit, longestPostText } from "./Confession.ts"
import { type TooLong, validateOptionalText } from "./Validation.ts"

/** What a confession message is. Only `Text`, `Photo` and `Voice` are accepted. */
export type Content = Data.TaggedEnum<{
  Text: { readonly text: string }
  /** The largest size's `file_id`; `caption` is "" when there is none. */
  Photo: { readonly fileId: string; readonly caption: string }
  /** `duration` in seconds as Telegram reports it; a voice note may carry a caption too ("" when none). */
  Voice: { readonly fileId: string; readonly duration: number; readonly caption: string }
  /** A file sent as a document: refused (a document keeps metadata such as EXIF location); `image` when it is a
   * picture, so the answer can say "send it as a photo". */
  Document: { readonly image: boolean }
  /** One item of an album (several photos at once): refused, each item arrives as its own message. */
  Album: { readonly mediaGroupId: string }
  /** A sticker, video, video note, GIF, audio file, location, poll…: refused; `kind` names the field (for metrics). */
  Other: { readonly kind: OtherKind }
}>

export const { $is, $match, Album, Document, Other, Photo, Text, Voice } = Data.taggedEnum<Content>()

/** The parts of a Telegram message the classifier reads. grammY's `Message` fits. */
export type MessageParts = Pick<
  Message,
  "text" | "caption" | "photo" | "voice" | "document" | "media_group_id" | (typeof otherKinds)[number]
>

/**
 * Message fields that make a message something we refuse, checked in this order. `animation` comes first because
 * Telegram also fills `document` for a GIF; `live_photo` is absent because Telegram also fills `photo` for it, and the
 * still photo is what we post.
 */
const otherKinds = [
  "animation",
  "sticker",
  "video",
  "video_note",
  "audio",
  "paid_media",
  "story",
  "contact",
  "location",
  "venue",
  "poll",
  "dice",
  "game",
  "checklist",
  "invoice"
] as const

export type OtherKind = (typeof otherKinds)[number] | "unknown"

/**
 * Classifies a message. An album item is refused even when it is a photo (only one item would be kept, and the user
 * would not know which); a photo without any size (never sent by Telegram) is "unknown".
 */
export const classify = (message: MessageParts): Content => {
  if (message.media_group_id !== undefined) return Album({ mediaGroupId: message.media_group_id })
  const other = otherKinds.find((kind) => message[kind] !== undefined)
  if (other !== undefined) return Other({ kind: other })
  if (message.photo !== undefined) {
    const largest = largestSize(message.photo)
    return largest === undefined
      ? Other({ kind: "unknown" })
      : Photo({ fileId: largest.file_id, caption: message.caption ?? "" })
  }
  if (message.voice !== undefined) {
    return Voice({ fileId: message.voice.file_id, duration: message.voice.duration, caption: message.caption ?? "" })
  }
  if (message.document !== undefined) {
    return Document({ image: message.document.mime_type?.startsWith("image/") ?? false })
  }
  if (message.text !== undefined) return Text({ text: message.text })
  return Other({ kind: "unknown" })
}

/**
 * The size with the most pixels; on a tie the later one, because Telegram lists sizes from the smallest up. Undefined
 * for an empty list.
 */
export const largestSize = (sizes: ReadonlyArray<PhotoSize>): PhotoSize | undefined =>
  sizes.reduce<PhotoSize | undefined>(
    (best, size) => (best === undefined || size.width * size.height >= best.width * best.height ? size : best),
    undefined
  )

// ---- captions -------------------------------------------------------------------------------------------------

/**
 * The longest caption we accept: Telegram's 1,024 minus what the channel post's caption adds (`#ID` above, the
 * author line below), so that an accepted caption is always posted whole and `sendPhoto` never fails for length.
 */
export const captionMaxLength = longestPostText(captionLimit)

/**
 * The trimmed caption ("" when there is none or it is blank), or `TooLong`. Counted in UTF-16 units, as Telegram
 * counts captions; NUL characters are dropped as for every text.
 */
export const validateCaption = (
  caption: string | undefined,
  maxLength: number = captionMaxLength
): Result.Result<string, TooLong> => validateOptionalText(caption, maxLength)

// ---- voice notes ----------------------------------------------------------------------------------------------

/** Default for the voice duration setting: two minutes. */
export const defaultVoiceMaxSeconds = 120

/** The voice note lasts `duration` seconds, more than the allowed `maxDuration`. */
export class VoiceTooLong extends Data.TaggedClass("VoiceTooLong")<{
  readonly duration: number
  readonly maxDuration: number
}> {}

/** The duration (seconds) when it is within `maxSeconds` (inclusive), or `VoiceTooLong`. */
export const validateVoice = (durationSeconds: number, maxSeconds: number): Result.Result<number, VoiceTooLong> =>
  durationSeconds <= maxSeconds
    ? Result.succeed(durationSeconds)
    : Result.fail(new VoiceTooLong({ duration: durationSeconds, maxDuration: maxSeconds }))
