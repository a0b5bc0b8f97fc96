// The playground's cast: the bot it plays, the people a visitor can be (two students and an admin), the channel, and
// the demo content a fresh playground starts with, written by people the visitor never plays.
import type { UserFromGetMe } from "grammy/types"
import { botInfo } from "../emulator/BotApiEmulator.ts"
import { type Person, person } from "../emulator/Updates.ts"

export const bot: UserFromGetMe = { ...botInfo, first_name: "Campus Confessions", username: "campus_confessions_bot" }

export type Role = "student" | "admin"

export interface DemoPerson extends Person {
  readonly role: Role
}

const demo = (id: number, firstName: string, username: string, role: Role): DemoPerson => ({
  ...person(id, firstName, username),
  role
})

export const alice = demo(1_001, "Alice", "alice_demo", "student")
export const bob = demo(1_002, "Bob", "bob_demo", "student")
export const dana = demo(1_003, "Dana", "dana_mod", "admin")

/** Whom the page lets the visitor be, in the switcher's order. */
export const people: ReadonlyArray<DemoPerson> = [alice, bob, dana]

export const admins: ReadonlyArray<number> = [dana.id]

/** CHANNEL_ID of the playground: the emulator creates the channel when the bot first names it. */
export const channel = "@campus_confessions"
export const channelTitle = "Campus Confessions"

// Authors of the demo content: never offered in the switcher, so the visitor meets them only as the bot shows them.
const kim = person(2_001, "Kim")
const lee = person(2_002, "Lee")
const sam = person(2_003, "Sam", "sam_plays_chess")
const noor = person(2_004, "Noor")

export interface SeedConfession {
  readonly author: Person
  /** Anonymous unless said otherwise, as the bot's default. */
  readonly named?: boolean
  readonly text: string
  readonly comments: ReadonlyArray<{ readonly by: Person; readonly text: string; readonly likedBy?: ReadonlyArray<Person> }>
}

export const seed: ReadonlyArray<SeedConfession> = [
  {
    author: kim,
    text:
      "I've been pretending to understand linear algebra all semester. Today the professor called on me, I said " +
      '"it\'s an eigenvalue", and it WAS. Riding that high until finals.',
    comments: [
      { by: lee, text: "Legend. Confidence is 90% of linear algebra.", likedBy: [sam, noor] },
      { by: sam, text: "Same energy as answering \"it depends\" in every economics seminar." }
    ]
  },
  {
    author: lee,
    text:
      "To whoever leaves fresh basil on the third-floor kitchen windowsill every Monday: my pasta is edible now " +
      "because of you. Thank you, basil angel 🌿",
    comments: [{ by: kim, text: "The basil angel is real. I have seen the pots.", likedBy: [noor] }]
  },
  {
    author: sam,
    named: true,
    text:
      "I joined the chess club to meet people and somehow became its treasurer. We have €14 and a lot of pawns. " +
      "Thursday nights in room B12, beginners very welcome!",
    comments: [{ by: noor, text: "Coming this Thursday. Bringing snacks for the treasury." }]
  }
]
