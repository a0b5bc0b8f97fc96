// Inline-button callback data: one tagged union of every button action, encoded as a compact ASCII string
// (`1:ap:123`, `1:cp:42:3`) that always fits Telegram's 64-byte limit, and decoded strictly: anything that is not
// exactly what `toString` produces (forged, truncated, from an older layout) decodes to `None`, never a crash.
import { Data, Option } from "effect"
import * as ContentRef from "./ContentRef.ts"
import type { CommentId, ConfessionId, FeedbackId } from "./Ids.ts"

/**
 * Every button the bot shows. Pages are 1-based; a view never builds page 0 (it would decode to `None`).
 * Preview actions carry no fields: the draft lives in the user's conversation state.
 */
export type CallbackData = Data.TaggedEnum<{
  PreviewSubmit: {}
  PreviewToggleAnonymous: {}
  PreviewCancel: {}
  PreviewEdit: {}
  CommentPost: {}
  CommentEdit: {}
  Approve: { readonly confessionId: ConfessionId }
  Reject: { readonly confessionId: ConfessionId }
  PendingPage: { readonly page: number }
  CommentsPage: { readonly confessionId: ConfessionId; readonly page: number }
  AddComment: { readonly confessionId: ConfessionId }
  Like: { readonly commentId: CommentId }
  Dislike: { readonly commentId: CommentId }
  Report: { readonly commentId: CommentId }
  Reply: { readonly commentId: CommentId }
  RepliesPage: { readonly commentId: CommentId; readonly page: number }
  HideComment: { readonly commentId: CommentId }
  KeepComment: { readonly commentId: CommentId }
  MyConfessionsPage: { readonly page: number }
  MyCommentsPage: { readonly page: number }
  ToggleAnonymity: {}
  FeedbackResolve: { readonly feedbackId: FeedbackId }
  FeedbackReply: { readonly feedbackId: FeedbackId }
  FeedbackPage: { readonly page: number }
  ReportsPage: { readonly page: number }
  Noop: {}
  ForgetKeepPosts: {}
  ForgetDeletePosts: {}
  ForgetCancel: {}
}>

export type Tag = CallbackData["_tag"]

/** The variant of `CallbackData` with tag `K`, e.g. `Of<"Approve">` for a route handler's argument. */
export type Of<K extends Tag> = Extract<CallbackData, { readonly _tag: K }>

export const {
  $is,
  $match,
  AddComment,
  Approve,
  CommentsPage,
  Dislike,
  FeedbackPage,
  FeedbackReply,
  FeedbackResolve,
  ForgetCancel,
  ForgetDeletePosts,
  ForgetKeepPosts,
  HideComment,
  KeepComment,
  Like,
  MyCommentsPage,
  MyConfessionsPage,
  Noop,
  PendingPage,
  PreviewCancel,
  PreviewEdit,
  CommentPost,
  CommentEdit,
  PreviewSubmit,
  PreviewToggleAnonymous,
  RepliesPage,
  Reply,
  ReportsPage,
  Reject,
  Report,
  ToggleAnonymity
} = Data.taggedEnum<CallbackData>()

/** Telegram rejects callback data longer than this many bytes. */
export const maxBytes = 64

/** Bumped whenever the layout below changes, so buttons still on screen from an older layout decode to `None`. */
export const version = "1"

/**
 * Every numeric field is an integer from 1 to Number.MAX_SAFE_INTEGER written in plain decimal (at most 16 digits),
 * so the longest encoding is `1:cp:<16 digits>:<16 digits>` = 38 ASCII bytes, well under `maxBytes`.
 */
type Field<K extends Tag> = Exclude<keyof Of<K>, "_tag">

interface Spec<K extends Tag> {
  /** Two lower-case letters, unique across actions. */
  readonly code: string
  /** The numeric fields in wire order. The compiler demands every field of the variant and no other. */
  readonly fields: [Field<K>] extends [never] ? Readonly<Record<string, never>> : { readonly [F in Field<K>]: true }
}

/**
 * The wire layout, one entry per action: `satisfies` turns a missing or misspelt tag into a compile error.
 * The key order inside `fields` is the order on the wire (JavaScript keeps string-key insertion order); changing it,
 * or a code, needs a new `version`.
 */
const specs = {
  PreviewSubmit: { code: "ps", fields: {} },
  PreviewToggleAnonymous: { code: "pa", fields: {} },
  PreviewCancel: { code: "pc", fields: {} },
  PreviewEdit: { code: "pe", fields: {} },
  CommentPost: { code: "cs", fields: {} },
  CommentEdit: { code: "ce", fields: {} },
  Approve: { code: "ap", fields: { confessionId: true } },
  Reject: { code: "rj", fields: { confessionId: true } },
  PendingPage: { code: "pp", fields: { page: true } },
  CommentsPage: { code: "cp", fields: { confessionId: true, page: true } },
  AddComment: { code: "ac", fields: { confessionId: true } },
  Like: { code: "lk", fields: { commentId: true } },
  Dislike: { code: "dl", fields: { commentId: true } },
  Report: { code: "rp", fields: { commentId: true } },
  Reply: { code: "ry", fields: { commentId: true } },
  RepliesPage: { code: "rl", fields: { commentId: true, page: true } },
  HideComment: { code: "hc", fields: { commentId: true } },
  KeepComment: { code: "kc", fields: { commentId: true } },
  MyConfessionsPage: { code: "mf", fields: { page: true } },
  MyCommentsPage: { code: "mc", fields: { page: true } },
  ToggleAnonymity: { code: "ta", fields: {} },
  FeedbackResolve: { code: "fr", fields: { feedbackId: true } },
  FeedbackReply: { code: "fy", fields: { feedbackId: true } },
  FeedbackPage: { code: "fp", fields: { page: true } },
  ReportsPage: { code: "rs", fields: { page: true } },
  Noop: { code: "no", fields: {} },
  ForgetKeepPosts: { code: "fk", fields: {} },
  ForgetDeletePosts: { code: "fd", fields: {} },
  ForgetCancel: { code: "fx", fields: {} }
} as const satisfies { readonly [K in Tag]: Spec<K> }

/** Every action tag, in declaration order (exhaustive by construction of `specs`). */
export const tags: ReadonlyArray<Tag> = Object.keys(specs) as Array<Tag> // Object.keys widens to string[]

/** Encodes an action. Total: every well-typed action (with 1-based pages) fits `maxBytes` and decodes back. */
export const toString = (action: CallbackData): string => {
  const { code, fields } = specs[action._tag]
  // Widened view of the action's numeric fields, read by the names its spec lists.
  const values = action as unknown as Readonly<Record<string, number>>
  const numbers = Object.keys(fields).map((name) => String(values[name]))
  return [version, code, ...numbers].join(":")
}

/**
 * Decodes callback data from Telegram. Returns `None` for anything `toString` would not produce: another version,
 * an unknown code, too few or too many parts, empty parts, signs, whitespace, leading zeros, decimals, exponents,
 * zero, or numbers above Number.MAX_SAFE_INTEGER.
 */
export const fromString = (raw: string): Option.Option<CallbackData> => {
  // Everything we produce is short ASCII, so this bound in UTF-16 units is also a bound in bytes.
  if (raw.length > maxBytes) return Option.none()
  const [head, code, ...numbers] = raw.split(":")
  if (head !== version || code === undefined) return Option.none()
  const tag = tagByCode.get(code)
  if (tag === undefined) return Option.none()
  const names = Object.keys(specs[tag].fields)
  if (numbers.length !== names.length) return Option.none()
  const decoded: Record<string, unknown> = {}
  for (const [index, name] of names.entries()) {
    const value = ContentRef.positiveInt(numbers[index])
    if (value === undefined) return Option.none()
    decoded[name] = value
  }
  decoded["_tag"] = tag
  // The spec fixed the tag and the exact field set, and every field is a positive safe integer, which is what the
  // branded ids (and 1-based pages) require; only the compiler cannot follow the per-tag field names.
  return Option.some(decoded as unknown as CallbackData)
}

const tagByCode: ReadonlyMap<string, Tag> = new Map(tags.map((tag) => [specs[tag].code, tag]))
