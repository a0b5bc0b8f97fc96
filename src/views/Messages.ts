// Every user-facing text of onboarding, help, confessing, moderation, profile and the admin commands, in one place so
// the voice stays consistent. Pure: values and functions of plain data returning Telegram HTML; anything a user typed
// goes through `Html.escape` here and nowhere else. Views that need layout (previews, lists) build on these.
import { Duration } from "effect"
import { rejectReasonMaxLength, type Status } from "../domain/Confession.ts"
import { type CommentRecord, isTombstone } from "../domain/Comment.ts"
import type { ConfessionId, FeedbackId } from "../domain/Ids.ts"
import type * as Reaction from "../domain/Reaction.ts"
import type { Decision, Reported, Toggled } from "../domain/Reaction.ts"
import type { TextProblem } from "../domain/Validation.ts"
import * as Html from "./Html.ts"
import { labels } from "./Keyboards.ts"

/** 3500 → "3,500". */
export const count = (n: number): string => n.toLocaleString("en-US")

const plural = (n: number, one: string, many: string = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`

/** A wait as people say it, rounded up: "1 second", "25 seconds", "12 minutes", "2 hours". */
export const formatWait = (wait: Duration.Duration): string => {
  const seconds = Math.max(1, Math.ceil(Duration.toMillis(wait) / 1000))
  if (seconds < 60) return plural(seconds, "second")
  const minutes = Math.ceil(seconds / 60)
  if (minutes < 60) return plural(minutes, "minute")
  return plural(Math.ceil(minutes / 60), "hour")
}

// ---- onboarding and help ---------------------------------------------------------------------------------------

/** Names are capped so a 256-character first name cannot crowd out the greeting. */
export const greeting = (firstName: string): string =>
  [
    `👋 Hi, <b>${Html.escapeTruncated(firstName.trim() === "" ? "there" : firstName.trim(), 64)}</b>! Welcome to the confessions bot.`,
    "",
    "Share what's on your mind, anonymously or under your name. A moderator reads every confession before it " +
      "appears in the channel, and everyone can comment on published ones.",
    "",
    `Tap ${labels.confess} to start, ${labels.profile} for your stats, or ${labels.help} for all commands.`
  ].join("\n")

/** Every user command of PRODUCT.md, in the order a newcomer needs them. */
export const userCommands: ReadonlyArray<readonly [command: string, what: string]> = [
  ["/start", "welcome message and the main keyboard (/register does the same)"],
  ["/confess", "write a confession"],
  ["/cancel", "leave what you are doing"],
  ["/comments <ID>", "read the comments of confession ID"],
  ["/comment <ID>", "comment on confession ID"],
  ["/profile", "your profile and statistics"],
  ["/myconfessions", "your confessions and their status"],
  ["/mycomments", "your comments"],
  ["/anonymous_on", "post your next confessions anonymously"],
  ["/anonymous_off", "post your next confessions under your name"],
  ["/feedback", "send feedback to the admins"],
  ["/mydata", "get everything the bot stores about you, as a file"],
  ["/forget", "erase everything the bot stores about you"],
  ["/help", "this list"]
]

export const adminCommands: ReadonlyArray<readonly [command: string, what: string]> = [
  ["/pending", "confessions waiting for review"],
  ["/stats", "system statistics"],
  ["/delete <ID>", "delete confession ID (and its channel post)"],
  ["/block c<ID>", "block the author of confession ID (m<ID>: of comment ID)"],
  ["/unblock c<ID>", "unblock the author of confession ID (m<ID>: of comment ID)"],
  ["/reports", "reported comments waiting for a decision"],
  ["/feedbacks", "open feedback"]
]

const commandLines = (commands: ReadonlyArray<readonly [string, string]>): Array<string> =>
  commands.map(([command, what]) => `${Html.escape(command)} — ${Html.escape(what)}`)

export const help = (isAdmin: boolean): string =>
  [
    "ℹ️ <b>How it works</b>",
    "Send /confess (or tap ✍️ Confess), write your text, check the preview and submit. A moderator approves it " +
      "before it is posted to the channel. Anonymous confessions never show who wrote them, not even to admins.",
    "",
    "<b>Commands</b>",
    ...commandLines(userCommands),
    ...(isAdmin ? ["", "🛡 <b>Admin commands</b>", ...commandLines(adminCommands)] : [])
  ].join("\n")

// ---- anything else ----------------------------------------------------------------------------------------------

export const temporaryProblem = "😕 A temporary problem on our side. Please try again in a moment."

export const adminsOnly = "⛔ Admins only."

export const staleButton = "This button has expired."

/** The router's own answers. */
export const routerTexts = { temporaryProblem, adminsOnly, staleButton } as const

const suggestions = "Try /confess to write a confession, /profile for your profile, or /help for all commands."

export const notUnderstood = `🤔 I'm not sure what you mean.\n\n${suggestions}`

/** An unknown command, named back (escaped, shortened) so typos are easy to spot. */
export const unknownCommand = (command: string): string =>
  `🤔 I don't know the command ${Html.escapeTruncated(command, 40)}.\n\n${suggestions}`

// ---- confessing -------------------------------------------------------------------------------------------------

export const confessPrompt = (maxLength: number): string =>
  [
    "✍️ Send me your confession as one text message " + `(up to ${count(maxLength)} characters).`,
    "",
    "You will see a preview before anything is sent. /cancel to stop."
  ].join("\n")

/** What a person is writing when a text rule applies; the way out is /skip for a reason, /cancel otherwise. */
export type Writing = "confession" | "caption" | "comment" | "reply" | "feedback" | "reason" | "answer"

const wayOut = (what: Writing): string => (what === "reason" ? "/skip" : "/cancel")

export const textOnly = (what: Writing): string =>
  `📝 Text only, please: send your ${what} as a text message, or ${wayOut(what)}.`

/** The rule, stated whatever was wrong, so the person can fix it and send again (their flow is kept). */
export const textProblem = (problem: TextProblem, what: Writing): string =>
  problem._tag === "Empty"
    ? `✏️ Your ${what} is empty. Please send some text, or ${wayOut(what)}.`
    : `✏️ Your ${what} has ${count(problem.length)} characters; the limit is ${count(problem.maxLength)}. ` +
      `Please shorten it and send it again, or ${wayOut(what)}.`

export const previewExpired = "⌛ This preview has expired. Send /confess to start again."

// ---- media and the privacy check ---------------------------------------------------------------------------------

/** Anything but text, a photo or a voice note (a sticker, a video, an album…). */
export const textPhotoOrVoice = "📝 Send text, a photo or a voice note, please, or /cancel."

/** A file sent as a document keeps its metadata (an image's EXIF location, for one). */
export const sendAsPhoto =
  "📎 Files are not accepted: they keep hidden details such as where a picture was taken. Send it as a photo " +
  "(not as a file), or /cancel."

export const voiceTooLong = (duration: number, maxDuration: number): string =>
  `🎤 That voice note is ${formatSeconds(duration)}; the limit is ${formatSeconds(maxDuration)}. ` +
  "Please record a shorter one, or /cancel."

const formatSeconds = (seconds: number): string =>
  seconds < 60 ? plural(seconds, "second") : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")} minutes`

/** What the privacy check found, as a person says it. */
const privacyKindName = (kind: string): string => {
  switch (kind) {
    case "phone":
      return "a phone number"
    case "email":
      return "an e-mail address"
    case "username":
      return "a Telegram @username"
    case "link":
      return "a Telegram link"
    default:
      return `a ${Html.escapeTruncated(kind, 40)}`
  }
}

/** One line of the preview per kind found. */
export const privacyWarning = (kind: string): string =>
  `⚠️ This looks like ${privacyKindName(kind)}: everyone will see it.`

export const privacyAdvice = "Edit it, or submit anyway."

/** The admins' copy: what the check found, by kind only. */
export const privacyFlag = (kinds: ReadonlyArray<string>): string =>
  `⚠️ Privacy check: ${kinds.map((kind) => privacyKindName(kind).replace(/^an? /, "")).join(", ")}`

export const editComment = "✏️ Send the corrected text; it is checked again before it is posted."

export const commentPreviewExpired = "⌛ This has expired. Open the comments again to write one."

export const editDraft = "✏️ Send the corrected text (or another photo or voice note); the preview follows."

export const submitted = (id: number): string =>
  `📨 Confession #${id} is waiting for review. I'll let you know when a moderator has decided.`

export const submittedToast = "📨 Sent for review"

export const cancelled = "✖️ Cancelled."

export const nothingToCancel = "There's nothing to cancel."

export const blocked = "🚫 You have been blocked by the moderators, so you can't confess, comment or react."

export const cooldown = (wait: Duration.Duration): string =>
  `⏳ Please wait ${formatWait(wait)} before sending another confession.`

export const hourlyLimit = (perHour: number, wait: Duration.Duration): string =>
  `⏳ You can send ${plural(perHour, "confession")} per hour. Try again in ${formatWait(wait)}.`

/**
 * A per-user hourly limit on what reaches other people was reached (comments and replies share one allowance); short
 * enough for a button's alert.
 */
export const activityLimit = (activity: "comment" | "report" | "feedback", perHour: number, wait: Duration.Duration): string => {
  const allowance =
    activity === "comment"
      ? `write ${plural(perHour, "comment")} per hour, replies included`
      : activity === "report"
        ? `report ${plural(perHour, "comment")} per hour`
        : `send ${plural(perHour, "feedback message")} per hour`
  return `⏳ You can ${allowance}. Try again in ${formatWait(wait)}.`
}

export const anonymousToast = (anonymous: boolean): string => (anonymous ? "🎭 Anonymous" : "🙂 Under your name")

// ---- moderation -------------------------------------------------------------------------------------------------

export const approvedToast = "✅ Approved: it goes to the channel now"

export const approvedNoChannel =
  "✅ Approved, but CHANNEL_ID is not set, so nothing was posted. Set it and restart the bot to publish confessions."

/** To every admin, once per confession, when the channel keeps refusing its post; it is retried until it goes out. */
export const channelPostFailing = (id: number, reason: string): string =>
  `⚠️ Confession #${id} is approved, but the channel refuses its post: <i>${Html.escapeTruncated(reason, 300)}</i>\n\n` +
  "Check that the bot is an admin of the channel that can post (and CHANNEL_ID). It is posted as soon as that works."

export const rejectedToast = "❌ Rejected"

/** For an id that is missing, not a number, out of range, or not visible. Whatever was typed is escaped here. */
export const confessionNotFound = (id: number | string): string =>
  `🔍 Confession #${Html.escapeTruncated(String(id), 20)} not found.`

const statusWord: { readonly [S in Status]: string } = {
  pending: "pending",
  approved: "approved",
  rejected: "rejected",
  deleted: "deleted"
}

export const alreadyDecided = (id: number, status: Status): string => `Confession #${id} is already ${statusWord[status]}.`

export const authorApproved = (id: number, postUrl: string | undefined): string =>
  postUrl === undefined
    ? `🎉 Your confession #${id} was approved!`
    : `🎉 Your confession #${id} was approved and posted:\n${Html.escape(postUrl)}`

export const authorRejected = (id: number): string => `😔 Your confession #${id} was not approved by the moderators.`

export const authorRejectReason = (id: number, reason: string): string =>
  `📝 A note from the moderators about confession #${id}:\n\n<i>${Html.escape(reason)}</i>`

export const askRejectReason = (id: number): string =>
  `❌ Confession #${id} rejected. If you like, send a short reason for the author ` +
  `(up to ${count(rejectReasonMaxLength)} characters), or /skip.`

/** The same whatever became of the author, so it tells nothing about whether they can be reached. */
export const reasonSent = "📨 The reason will be passed on to the author."

export const reasonSkipped = "OK, no reason sent."

export const nothingToSkip = "There's nothing to skip."

export const reasonAlreadyGiven = (id: number): string => `The author already got a reason for confession #${id}.`

export const reasonNotYours = (id: number): string =>
  `Another admin rejected confession #${id}; only they can add a reason.`

export const reasonNotRejected = (id: number, status: Status): string =>
  `Confession #${id} is ${statusWord[status]} now, so no reason was sent.`

// ---- admin commands ---------------------------------------------------------------------------------------------

export const deleteUsage = "Usage: /delete &lt;ID&gt;, for example /delete 42"

export const blockUsage = (command: "block" | "unblock"): string =>
  `Usage: /${command} c&lt;ID&gt; for the author of a confession, or /${command} m&lt;ID&gt; for the author of a ` +
  `comment, for example /${command} c42`

/** What happened to the channel post of a deleted confession. */
/** What happens to the channel post of a deleted confession: it goes, there was none, or nobody can remove it. */
export type PostRemoval = "removing" | "none" | "noChannel"

export const deleted = (id: number, post: PostRemoval): string => {
  const head = `🗑 Confession #${id} deleted.`
  switch (post) {
    case "removing":
      return `${head} Its channel post is being removed.`
    case "none":
      return head
    case "noChannel":
      return `${head} It had a channel post, but CHANNEL_ID is not set, so please delete it by hand.`
  }
}

export const alreadyDeleted = (id: number): string => `Confession #${id} is already deleted.`

export type SubjectKind = "confession" | "comment"

const subjectName = (kind: SubjectKind, id: number): string => `${kind} #${id}`

export const subjectNotFound = (kind: SubjectKind, id: number): string =>
  `🔍 ${kind === "confession" ? "Confession" : "Comment"} #${id} not found.`

/**
 * The same whether or not the author was blocked before: an answer that differed would tell an admin whether two
 * items share an author (block one, then ask about the other).
 */
export const blockedAuthor = (kind: SubjectKind, id: number): string =>
  `🚫 The author of ${subjectName(kind, id)} is blocked. Who they are stays hidden.`

export const unblockedAuthor = (kind: SubjectKind, id: number): string =>
  `✅ The author of ${subjectName(kind, id)} is not blocked. Who they are stays hidden.`

export const noPending = "🎉 No confessions are waiting for review."

// ---- profile ----------------------------------------------------------------------------------------------------

export const anonymityChanged = (anonymous: boolean): string =>
  anonymous
    ? "🎭 Anonymity is on: your next confessions will be posted as Anonymous."
    : "🙂 Anonymity is off: your next confessions will show your first name and @username."

export const anonymityToast = (anonymous: boolean): string => (anonymous ? "🎭 Anonymity on" : "🙂 Anonymity off")

export const noConfessionsYet = `📝 You haven't confessed yet. Tap ${labels.confess} to write your first one.`

// ---- comments ---------------------------------------------------------------------------------------------------

export const commentNotFound = "😕 That comment is no longer available."

export const commentsUsage = "Send <code>/comments 12</code> to read the comments on confession #12."

export const commentUsage = "Send <code>/comment 12</code> to comment on confession #12."

export const askComment = (confessionId: ConfessionId, maxLength: number): string =>
  `✍️ Send your comment on confession #${confessionId} (up to ${count(maxLength)} characters). ` +
  "Comments never show who wrote them. /cancel to stop."

/** How much of the parent comment the reply prompt quotes. */
export const promptQuoteLength = 100

export const askReply = (parent: CommentRecord, maxLength: number): string =>
  `💬 Send your reply to this comment on confession #${parent.confessionId} (up to ${count(maxLength)} characters):\n` +
  `${isTombstone(parent) ? deletedComment : `<i>${Html.escapeTruncated(parent.text, promptQuoteLength)}</i>`}\n\n` +
  "Replies never show who wrote them. /cancel to stop."

/** In place of a tombstone's text: its writer erased their data (/forget), others' replies keep it in the thread. */
export const deletedComment = "🗑 <i>deleted comment</i>"

export const onlyTopLevelReplies = "↩️ Replies go under top-level comments only."

// ---- reactions and reports ----------------------------------------------------------------------------------------

export const reactionToast = (pressed: Reaction.Kind, outcome: Toggled): string =>
  outcome.mine === null
    ? `${pressed === "like" ? "Like" : "Dislike"} removed`
    : outcome.mine === "like"
      ? "👍 Liked"
      : "👎 Disliked"

export const reportToast = (outcome: Reported): string =>
  outcome.counted ? "⚠️ Reported. Thank you, the admins will take a look." : "You have already reported this comment."

export const decisionToast = (decision: Decision): string =>
  decision === "hidden" ? "🙈 Hidden: it no longer appears anywhere." : "✔️ Kept: it stays visible."

export const commentAlreadyDecided = (decision: Decision): string =>
  decision === "hidden" ? "Already decided: the comment is hidden." : "Already decided: the comment was kept."

// ---- feedback ----------------------------------------------------------------------------------------------------

export const askFeedback = (maxLength: number): string =>
  `📝 Send your feedback for the admins in one message (up to ${count(maxLength)} characters). /cancel to stop.`

export const feedbackThanks = "🙏 Thank you! Your feedback reached the admins."

export const feedbackResolved = (id: FeedbackId): string => `✔️ Feedback #${id} resolved.`

export const feedbackAlreadyResolved = (id: FeedbackId): string => `Feedback #${id} was already resolved.`

export const feedbackNotFound = (id: FeedbackId): string => `🔍 Feedback #${id} not found.`

export const askFeedbackReply = (id: FeedbackId, maxLength: number): string =>
  `↩️ Send your answer to feedback #${id} (up to ${count(maxLength)} characters). The sender gets it from the bot ` +
  "and never learns which admin wrote it. /cancel to stop."

export const feedbackReplySent = (id: FeedbackId): string => `📨 Your answer to feedback #${id} will be passed on.`

/** To the sender of feedback: the admins' answer, signed by no admin. */
export const feedbackAnswer = (id: FeedbackId, text: string): string =>
  `📬 The admins answered your feedback #${id}:\n\n<i>${Html.escape(text)}</i>`

// ---- your own data: /mydata and /forget ---------------------------------------------------------------------------

/** The first key of the /mydata file: what it is. */
export const myDataAbout =
  "Everything the confessions bot stores about you: your profile and settings, your confessions (every status), " +
  "your comments (hidden ones too), the reactions and reports you gave, and your feedback with the admins' answers. " +
  "Nothing about anyone else: comments show counts, never who reacted."

export const myDataCaption =
  "📦 Everything the bot stores about you. It includes your anonymous confessions, so keep the file to yourself. " +
  "/forget erases it all."

/** /mydata asked for again within the hour. */
export const myDataTooSoon = (wait: Duration.Duration): string =>
  `⏳ You can ask for your data once an hour. Try again in ${formatWait(wait)}.`

export const forgetQuestion = [
  "🗑 <b>Erase everything the bot stores about you?</b>",
  "",
  "Your profile, your pending and rejected confessions, your comments, reactions, reports and feedback are deleted, " +
    "and nothing left links anything to you. A comment of yours that others replied to stays as " +
    "\"deleted comment\", so their replies keep their place.",
  "",
  "Your published confessions can stay in the channel as anonymous posts, or be deleted with everything else.",
  "",
  "This cannot be undone. Consider /mydata first."
].join("\n")

export const forgetKeepPostsLabel = "🗑 Erase, keep my posts anonymous"
export const forgetDeletePostsLabel = "🗑 Erase and delete my posts"
export const forgetCancelLabel = "✖️ Cancel"

/** The last message the bot sends a forgotten person, straight after the erasure (nothing stored keeps their chat). */
export const forgotten = (postsDeleted: boolean): string =>
  [
    "🗑 <b>Your data is erased.</b>",
    "",
    postsDeleted
      ? "Your published confessions are being removed from the channel."
      : "Your published confessions stay in the channel as anonymous posts.",
    "The bot no longer knows you. If you write again, it will greet you as someone new."
  ].join("\n")

export const forgetCancelled = "👍 Nothing was erased."

export const forgetAdmin =
  "🛡 Admins cannot erase themselves: remove your id from ADMIN_IDS first, then use /forget."

export const forgetBlocked = "⛔ A blocked account cannot be erased. Use /feedback to appeal the block."

/** Every admin's copy of something its writer erased: no content, no buttons. */
export const withdrawnCopy = (subject: "confession" | "feedback" | "comment", id: number): string =>
  `🗑 ${subject === "confession" ? "Confession" : subject === "feedback" ? "Feedback" : "Reported comment"} #${id} ` +
  "was withdrawn."

/** What a kept outbox copy of an erased person's message says instead (never sent again unless a send is retried). */
export const withdrawnPlaceholder = "🗑 Withdrawn."
