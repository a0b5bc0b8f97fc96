// The benchmark's workload: the seeded community (approved confessions, comments and a few reactions, inserted with
// plain SQL before the bot starts) and virtual users who pick actions by issue 7's mix and turn each action into
// one to three Telegram updates, sent one at a time (the next only after the bot answered the previous one).
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { InlineKeyboardMarkup } from "grammy/types"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId, ConfessionId } from "../../src/domain/Ids.ts"

export type ActionKind = "openComments" | "react" | "profile" | "comment" | "confess" | "other"

export const actionKinds: ReadonlyArray<ActionKind> = ["openComments", "react", "profile", "comment", "confess", "other"]

/** Relative weights of the actions a virtual user picks (issue 7: 40 / 25 / 15 / 10 / 5 / 5). */
export type Mix = Readonly<Record<ActionKind, number>>

export const defaultMix: Mix = { openComments: 40, react: 25, profile: 15, comment: 10, confess: 5, other: 5 }

export interface SeedSize {
  readonly confessions: number
  readonly comments: number
  /** Reactions by seeded authors on seeded comments, so profiles and counters are not all zero. */
  readonly reactions: number
}

export const defaultSeedSize: SeedSize = { confessions: 1_000, comments: 20_000, reactions: 40_000 }

/** The id ranges the seed produced (read back from the database, not assumed). */
export interface Seeded {
  readonly firstConfession: number
  readonly lastConfession: number
  readonly firstComment: number
  readonly lastComment: number
}

/**
 * Telegram ids used by the benchmark. Virtual users and seeded authors never overlap, so a notification to a
 * confession's author ("someone commented") never looks like an answer to a virtual user's update.
 */
export const ids = {
  virtualUserBase: 100_000_000,
  seededAuthorBase: 800_000_000,
  seededAuthors: 500,
  admins: [900_001, 900_002] as ReadonlyArray<number>,
  channel: "-1001234567890"
} as const

export const virtualUserId = (index: number): number => ids.virtualUserBase + 1 + index

/**
 * Inserts the seeded community into a migrated, empty database: `size.confessions` approved confessions by
 * `ids.seededAuthors` authors, `size.comments` top-level comments (half of them on the 10 % most popular
 * confessions), and reactions with the comments' counters kept consistent. Set-based statements, a few seconds.
 */
export const seed = (size: SeedSize = defaultSeedSize) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const authors = ids.seededAuthors
    const base = ids.seededAuthorBase
    const popular = Math.max(1, Math.floor(size.confessions / 10))
    yield* sql`
      insert into users (id, first_name, anonymous_default)
      select ${base}::int + g, 'Author ' || g, g % 4 <> 0 from generate_series(1, ${authors}::int) g
      on conflict (id) do nothing`
    yield* sql`
      insert into confessions (author_id, text, anonymous, status, channel_message_id, decided_by, decided_at, created_at)
      select ${base}::int + 1 + (g % ${authors}::int),
             'Seeded confession ' || g || ': ' || repeat('somebody in the library keeps stealing my seat ', 1 + g % 6),
             g % 3 <> 0, 'approved', g, ${ids.admins[0] ?? 1}::bigint, now(), now() - make_interval(mins => ${size.confessions}::int - g)
      from generate_series(1, ${size.confessions}::int) g`
    const [range] = yield* sql<{ readonly lo: number; readonly hi: number }>`
      select min(id)::int as lo, max(id)::int as hi from confessions`
    const lo = range?.lo ?? 1
    yield* sql`
      insert into comments (confession_id, author_id, text, created_at)
      select ${lo}::int + case when g % 2 = 0 then (g * 7919) % ${popular}::int else (g * 7919) % ${size.confessions}::int end,
             ${base}::int + 1 + ((g * 31) % ${authors}::int),
             'Seeded comment ' || g || ' ' || repeat('same here ', 1 + g % 4),
             now() - make_interval(secs => ${size.comments}::int - g)
      from generate_series(1, ${size.comments}::int) g`
    const [comments] = yield* sql<{ readonly lo: number; readonly hi: number }>`
      select min(id)::int as lo, max(id)::int as hi from comments`
    const firstComment = comments?.lo ?? 1
    yield* sql`
      insert into reactions (comment_id, user_id, kind)
      select ${firstComment}::int + (g::bigint * 104729) % ${size.comments}::int, ${base}::int + 1 + (g % ${authors}::int),
             case when g % 4 = 0 then 'dislike' else 'like' end
      from generate_series(1, ${size.reactions}::int) g
      on conflict do nothing`
    yield* sql`
      update comments c set likes = r.likes, dislikes = r.dislikes
      from (
        select comment_id,
               count(*) filter (where kind = 'like')::int as likes,
               count(*) filter (where kind = 'dislike')::int as dislikes
        from reactions group by comment_id
      ) r
      where r.comment_id = c.id`
    yield* sql`analyze`
    return {
      firstConfession: lo,
      lastConfession: range?.hi ?? lo,
      firstComment,
      lastComment: comments?.hi ?? firstComment
    } satisfies Seeded
  })

/** One update a virtual user sends: a text message (commands included) or a button press. */
export type Step =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "Button"; readonly data: string }

/** An action in progress: its kind (for per-kind latency) and the steps still to send, in order. */
export interface Action {
  readonly kind: ActionKind
  readonly steps: ReadonlyArray<Step>
}

/** A small, fast, seedable PRNG (mulberry32), so a run's sequence of actions is reproducible. */
export const makeRandom = (seedValue: number): (() => number) => {
  let state = seedValue >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const between = (random: () => number, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))

/** A confession id: half the traffic goes to the 10 % most popular (where half the seeded comments are). */
const pickConfession = (random: () => number, seeded: Seeded) => {
  const count = seeded.lastConfession - seeded.firstConfession + 1
  const popular = Math.max(1, Math.floor(count / 10))
  return seeded.firstConfession + (random() < 0.5 ? between(random, 0, popular - 1) : between(random, 0, count - 1))
}

const pickComment = (random: () => number, seeded: Seeded) => between(random, seeded.firstComment, seeded.lastComment)

const phrases = [
  "honestly same, this happened to me last semester",
  "the library at 3am is a different world",
  "who else thinks the cafeteria pasta is underrated",
  "I laughed way too hard at this in the lecture hall",
  "this is the most relatable thing posted here"
]

/** Picks the next action by `mix` and spells out its updates. */
export const nextAction = (random: () => number, seeded: Seeded, mix: Mix, serial: number): Action => {
  const total = actionKinds.reduce((sum, kind) => sum + mix[kind], 0)
  let roll = random() * total
  let kind: ActionKind = "other"
  for (const candidate of actionKinds) {
    roll -= mix[candidate]
    if (roll < 0) {
      kind = candidate
      break
    }
  }
  const text = `${phrases[serial % phrases.length] ?? "same"} (#${serial})`
  switch (kind) {
    case "openComments": {
      const confession = pickConfession(random, seeded)
      return random() < 0.5
        ? { kind, steps: [{ _tag: "Text", text: `/comments ${confession}` }] }
        : {
            kind,
            steps: [
              {
                _tag: "Button",
                data: CallbackData.toString(
                  CallbackData.CommentsPage({ confessionId: ConfessionId.make(confession), page: between(random, 1, 3) })
                )
              }
            ]
          }
    }
    case "react": {
      const commentId = CommentId.make(pickComment(random, seeded))
      const action = random() < 0.75 ? CallbackData.Like({ commentId }) : CallbackData.Dislike({ commentId })
      return { kind, steps: [{ _tag: "Button", data: CallbackData.toString(action) }] }
    }
    case "profile":
      return { kind, steps: [{ _tag: "Text", text: "/profile" }] }
    case "comment":
      return {
        kind,
        steps: [
          { _tag: "Text", text: `/comment ${pickConfession(random, seeded)}` },
          { _tag: "Text", text }
        ]
      }
    case "confess":
      return {
        kind,
        steps: [
          { _tag: "Text", text: "/confess" },
          { _tag: "Text", text: `Confession: ${text}` },
          { _tag: "Button", data: CallbackData.toString(CallbackData.PreviewSubmit()) }
        ]
      }
    case "other":
      return random() < 0.5
        ? { kind, steps: [{ _tag: "Text", text: "/help" }] }
        : { kind, steps: [{ _tag: "Text", text: "hello? is anyone there" }] }
  }
}

// The message a press comes from: a like/dislike is pressed on the comments page it belongs to (Telegram sends that
// keyboard along, and the bot rewrites the pressed counts in it instead of re-reading the page); any other button
// on a message holding just that button.
export const keyboardFor = (data: string): InlineKeyboardMarkup => {
  const action = CallbackData.fromString(data)
  if (action._tag !== "Some" || (action.value._tag !== "Like" && action.value._tag !== "Dislike")) {
    return { inline_keyboard: [[{ text: "▶️", callback_data: data }]] }
  }
  const commentId = action.value.commentId
  const row = (n: number, id: number) => [
    { text: `${n}. 👍 3`, callback_data: CallbackData.toString(CallbackData.Like({ commentId: CommentId.make(id) })) },
    { text: "👎 1", callback_data: CallbackData.toString(CallbackData.Dislike({ commentId: CommentId.make(id) })) },
    { text: "⚠️", callback_data: CallbackData.toString(CallbackData.Report({ commentId: CommentId.make(id) })) },
    { text: "💬", callback_data: CallbackData.toString(CallbackData.Reply({ commentId: CommentId.make(id) })) }
  ]
  return {
    inline_keyboard: [row(1, commentId + 1), row(2, commentId), row(3, commentId + 2), [{ text: "➕ Add comment", callback_data: CallbackData.toString(CallbackData.Noop()) }]]
  }
}
