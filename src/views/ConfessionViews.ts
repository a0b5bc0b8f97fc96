// Confessions on screen: the author's preview, the admins' notification and its outcome, the channel post with its
// comments button, the admins' pending list, the author's own list and the /stats text. Pure: every function takes
// plain data (and the time when ages are shown) and returns escaped HTML within Telegram's 4,096 characters.
import type { InlineKeyboardButton } from "grammy/types"
import * as CallbackData from "../domain/CallbackData.ts"
import { authorLine, captionLimit, type Media, type Published, type Status } from "../domain/Confession.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import type { Page } from "../domain/Paging.ts"
import type { SystemStats } from "../domain/Stats.ts"
import * as Html from "./Html.ts"
import { button, inline, pager, urlButton, type View } from "./Keyboards.ts"
import * as Messages from "./Messages.ts"

/** What a list view needs of a page: not the total count. */
type Shown<A> = Omit<Page<A>, "total">

/** Confessions per page in /pending and /myconfessions. */
export const pageSize = 5

/** Characters of a confession shown in a list line. */
export const listPreviewLength = 100

/** Characters of the confession kept in an admin's copy once it is decided (the decision is what matters then). */
export const decidedPreviewLength = 1000

export interface Draft {
  /** The text, or a photo's or voice note's caption ("" when it has none). */
  readonly text: string
  readonly anonymous: boolean
  readonly media?: Media | null | undefined
}

/**
 * A rendered confession message: HTML text and keyboard, or a photo or voice note (re-sent by `file_id`) with the text
 * as its caption, within Telegram's 1,024 characters for captions.
 */
export interface Post extends View {
  readonly media?: Media | null | undefined
}

export interface Author {
  readonly firstName: string
  readonly username: string | null
}

export interface ConfessionSummary {
  readonly id: ConfessionId
  readonly text: string
  readonly media: Media | null
  readonly anonymous: boolean
  readonly status: Status
  readonly rejectReason: string | null
  readonly createdAt: Date
}

/**
 * `prefix`, the raw text escaped and shortened to what is left of the limit (a message's, or a caption's when `media`),
 * then `suffix` (both already HTML).
 */
const framed = (prefix: string, raw: string, suffix: string, media?: Media | null): string => {
  const limit = media === undefined || media === null ? Html.messageLimit : captionLimit
  const budget = limit - Html.visibleLength(prefix) - Html.visibleLength(suffix)
  return Html.fitMessage(prefix + Html.escapeTruncated(raw, budget) + suffix, limit)
}

/** "📷 photo" or "🎤 voice (0:42)": how a media confession is named where its media cannot be shown. */
export const mediaLabel = (media: Media): string =>
  media.kind === "photo"
    ? "📷 photo"
    : `🎤 voice${media.duration === undefined ? "" : ` (${Math.floor(media.duration / 60)}:${String(media.duration % 60).padStart(2, "0")})`}`

/** A line of plain text for a confession in a list: its text, or its media label with the caption. */
export const contentPreview = (confession: { readonly text: string; readonly media?: Media | null | undefined }): string =>
  confession.media === undefined || confession.media === null
    ? confession.text
    : confession.text === ""
      ? mediaLabel(confession.media)
      : `${mediaLabel(confession.media)} · ${confession.text}`

/** What goes between a confession's text and the lines below it: nothing after an empty caption. */
const gap = (text: string) => (text === "" ? "" : "\n\n")

/** The privacy check's findings, one warning line each, plus what to do; nothing when there are none. */
const privacyLines = (kinds: ReadonlyArray<string>): string =>
  kinds.length === 0 ? "" : `\n\n${kinds.map(Messages.privacyWarning).join("\n")}\n${Messages.privacyAdvice}`

const signature = (draft: Draft, author: Author): string =>
  `— ${Html.escape(authorLine({ anonymous: draft.anonymous, firstName: author.firstName, username: author.username }))}`

// ---- the author's preview -----------------------------------------------------------------------------------------

/**
 * The draft as it would be posted, with ✅ Submit, the anonymity toggle and ✖️ Cancel. When the privacy check found
 * something (`privacy`: the kinds), each is named with a warning, and the choice is ✏️ Edit or ✅ Submit anyway.
 */
export const preview = (draft: Draft, author: Author, privacy: ReadonlyArray<string> = []): Post => ({
  text: framed(
    "👀 <b>Preview</b>\n\n",
    draft.text,
    `${gap(draft.text)}${signature(draft, author)}${privacyLines(privacy)}\n\nSubmit it for review?`,
    draft.media
  ),
  keyboard: inline([
    privacy.length === 0
      ? [button("✅ Submit", CallbackData.PreviewSubmit())]
      : [button("✏️ Edit", CallbackData.PreviewEdit()), button("✅ Submit anyway", CallbackData.PreviewSubmit())],
    [
      button(`🎭 Anonymous: ${draft.anonymous ? "on" : "off"}`, CallbackData.PreviewToggleAnonymous()),
      button("✖️ Cancel", CallbackData.PreviewCancel())
    ]
  ]),
  media: draft.media
})

// ---- the admins' notification -------------------------------------------------------------------------------------

/**
 * What every admin gets for a new confession. An anonymous one is signed "Anonymous": admins moderate content, not
 * people, and learn nothing more than the channel would show.
 */
export const adminNotification = (
  confession: Draft & { readonly id: ConfessionId },
  author: Author,
  privacy: ReadonlyArray<string> = []
): Post => ({
  text: framed(
    `🆕 <b>Confession #${confession.id}</b> is waiting for review\n\n`,
    confession.text,
    `${gap(confession.text)}${signature(confession, author)}${privacy.length === 0 ? "" : `\n\n${Messages.privacyFlag(privacy)}`}`,
    confession.media
  ),
  keyboard: decisionKeyboard(confession.id),
  media: confession.media
})

export const decisionButtons = (id: ConfessionId): ReadonlyArray<InlineKeyboardButton> => [
  button("✅ Approve", CallbackData.Approve({ confessionId: id })),
  button("❌ Reject", CallbackData.Reject({ confessionId: id }))
]

export const decisionKeyboard = (id: ConfessionId) => inline([decisionButtons(id)])

export type Outcome = "approved" | "rejected" | "deleted"

const outcomeLine: { readonly [O in Outcome]: string } = {
  approved: "✅ Approved by an admin",
  rejected: "❌ Rejected",
  deleted: "🗑 Deleted by an admin"
}

/**
 * Every admin's copy after the decision: the outcome first, the (shortened) text below, no buttons. A media copy's
 * caption is edited, within the caption limit.
 */
export const outcome = (
  confession: { readonly id: ConfessionId; readonly text: string; readonly media?: Media | null | undefined },
  decided: Outcome
): Post => ({
  text: framed(
    `${outcomeLine[decided]}\n\n<b>Confession #${confession.id}</b>\n\n`,
    Html.truncate(confession.text, decidedPreviewLength),
    "",
    confession.media
  ),
  ...(confession.media === undefined || confession.media === null ? {} : { media: confession.media })
})

// ---- the channel ------------------------------------------------------------------------------------------------

/**
 * `#ID`, the text, the author line, and the button that deep-links into the bot's comments view; a photo or voice note
 * with all of that as its caption.
 */
export const channelPost = (confession: Published, commentsUrl: string): Post => ({
  text: framed(
    `<b>#${confession.id}</b>\n\n`,
    confession.text,
    `${gap(confession.text)}${signature(confession, { firstName: confession.authorFirstName, username: confession.authorUsername })}`,
    confession.media
  ),
  keyboard: inline([[urlButton("💬 View / Add Comments", commentsUrl)]]),
  media: confession.media
})

// ---- lists ------------------------------------------------------------------------------------------------------

/** "just now", "5 min ago", "3 h ago", "2 d ago". */
export const age = (createdAt: Date, now: number): string => {
  const minutes = Math.floor(Math.max(0, now - createdAt.getTime()) / 60_000)
  if (minutes < 1) return "just now"
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.floor(minutes / 60)
  return hours < 24 ? `${hours} h ago` : `${Math.floor(hours / 24)} d ago`
}

const pageHeader = (title: string, page: Shown<unknown>): string =>
  page.totalPages > 1 ? `${title} (page ${page.page} of ${page.totalPages})` : title

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

/** The moderation queue: ID, age, the first 100 characters, and ✅ / ❌ per confession. */
export const pendingPage = (page: Shown<ConfessionSummary>, now: number): View => {
  const items = page.items.map(
    (c) => `<b>#${c.id}</b> · ${age(c.createdAt, now)}\n${Html.escapeTruncated(oneLine(contentPreview(c)), listPreviewLength)}`
  )
  return {
    text: Html.fitMessage([`🕓 <b>${pageHeader("Pending confessions", page)}</b>`, ...items].join("\n\n")),
    keyboard: inline([
      ...page.items.map((c) => [
        button(`✅ #${c.id}`, CallbackData.Approve({ confessionId: c.id })),
        button(`❌ #${c.id}`, CallbackData.Reject({ confessionId: c.id }))
      ]),
      ...pager(page, (n) => CallbackData.PendingPage({ page: n }))
    ])
  }
}

const statusIcon: { readonly [S in Status]: string } = {
  pending: "⏳",
  approved: "✅",
  rejected: "❌",
  deleted: "🗑"
}

/** The author's own confessions, newest first, with their status and (for a rejected one) the moderators' note. */
export const myConfessionsPage = (page: Shown<ConfessionSummary>, now: number): View => {
  const items = page.items.map((c) => {
    const head = `${statusIcon[c.status]} <b>#${c.id}</b> · ${c.status} · ${age(c.createdAt, now)}${c.anonymous ? " · 🎭" : ""}`
    const note = c.rejectReason === null ? "" : `\n📝 <i>${Html.escapeTruncated(oneLine(c.rejectReason), listPreviewLength)}</i>`
    return `${head}\n${Html.escapeTruncated(oneLine(contentPreview(c)), listPreviewLength)}${note}`
  })
  return {
    text: Html.fitMessage([`📝 <b>${pageHeader("My confessions", page)}</b>`, ...items].join("\n\n")),
    keyboard: inline(pager(page, (n) => CallbackData.MyConfessionsPage({ page: n })))
  }
}

// ---- /stats -----------------------------------------------------------------------------------------------------

export const stats = (s: SystemStats): string => {
  const confessions = s.confessionsPending + s.confessionsApproved + s.confessionsRejected + s.confessionsDeleted
  return [
    "📊 <b>Statistics</b>",
    "",
    `👥 Users: ${Messages.count(s.users)}`,
    `📝 Confessions: ${Messages.count(confessions)}`,
    `   ⏳ Pending: ${Messages.count(s.confessionsPending)}`,
    `   ✅ Approved: ${Messages.count(s.confessionsApproved)}`,
    `   ❌ Rejected: ${Messages.count(s.confessionsRejected)}`,
    `   🗑 Deleted: ${Messages.count(s.confessionsDeleted)}`,
    `💬 Comments: ${Messages.count(s.comments)}`,
    `👍 Reactions: ${Messages.count(s.reactions)}`,
    "",
    "🕐 <b>Last 24 hours</b>",
    `🆕 New users: ${Messages.count(s.last24h.newUsers)}`,
    `🟢 Active users: ${Messages.count(s.last24h.activeUsers)}`,
    `📝 Confessions: ${Messages.count(s.last24h.confessions)}`,
    `💬 Comments: ${Messages.count(s.last24h.comments)}`,
    `👍 Reactions: ${Messages.count(s.last24h.reactions)}`
  ].join("\n")
}
