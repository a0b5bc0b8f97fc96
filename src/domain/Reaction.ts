// Pure rules of reactions: one like or dislike per user per comment. Pressing the reaction you already have removes
// it, pressing the other one switches to it; the counter deltas follow from the transition.
import { Schema } from "effect"

export const Kind = Schema.Literals(["like", "dislike"])
export type Kind = typeof Kind.Type

/** What a user currently has on a comment: a reaction or nothing (`null`). */
export type Current = Kind | null

export interface Transition {
  /** The user's reaction after the press. */
  readonly next: Current
  /** Change of the comment's like counter: -1, 0 or +1. */
  readonly likes: number
  /** Change of the comment's dislike counter: -1, 0 or +1. */
  readonly dislikes: number
}

export const opposite = (kind: Kind): Kind => (kind === "like" ? "dislike" : "like")

/** The transition caused by pressing `pressed` while holding `current`. */
export const toggle = (current: Current, pressed: Kind): Transition => {
  const next: Current = current === pressed ? null : pressed
  return { next, likes: delta(current, next, "like"), dislikes: delta(current, next, "dislike") }
}

const delta = (before: Current, after: Current, kind: Kind): number =>
  (after === kind ? 1 : 0) - (before === kind ? 1 : 0)

// ---- outcomes, as the reactions service returns them and the views show them -----------------------------------

export interface Toggled {
  readonly likes: number
  readonly dislikes: number
  /** The presser's reaction after the press. */
  readonly mine: Current
}

export interface Reported {
  /** Reports on the comment after this one. */
  readonly reports: number
  /** False when this user had already reported the comment: nothing changed. */
  readonly counted: boolean
  /** True for exactly one report per comment: the one that reached REPORT_THRESHOLD. Notify the admins then. */
  readonly alert: boolean
}

export type Decision = "hidden" | "kept"
