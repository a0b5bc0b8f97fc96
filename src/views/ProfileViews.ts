// The /profile card: anonymity mode, the raw counts and the two derived numbers (from domain/Profile.ts), with the
// buttons into the user's history and the anonymity toggle. Pure.
import * as CallbackData from "../domain/CallbackData.ts"
import * as Profile from "../domain/Profile.ts"
import type { ProfileStats } from "../domain/Profile.ts"
import { button, inline, type View } from "./Keyboards.ts"
import { count } from "./Messages.ts"

export const profile = (stats: ProfileStats): View => ({
  text: [
    "👤 <b>Your profile</b>",
    "",
    stats.anonymousDefault
      ? "🎭 Anonymity: <b>on</b> (new confessions are posted as Anonymous)"
      : "🙂 Anonymity: <b>off</b> (new confessions show your name)",
    `📝 Approved confessions: ${count(stats.approvedConfessions)}`,
    `💬 Comments written: ${count(stats.commentsWritten)}`,
    `⭐ Impact points: ${count(Profile.impactPoints(stats))}`,
    `🤝 Acceptance score: ${Profile.acceptanceScore(stats)}`
  ].join("\n"),
  keyboard: inline([
    [
      button("📝 My confessions", CallbackData.MyConfessionsPage({ page: 1 })),
      button("💬 My comments", CallbackData.MyCommentsPage({ page: 1 }))
    ],
    [button("🎭 Toggle anonymity", CallbackData.ToggleAnonymity())]
  ])
})
