import { assert, describe, it } from "@effect/vitest"
import * as Profile from "../../src/domain/Profile.ts"

const counts = (
  approvedConfessions: number,
  commentsWritten: number,
  likesReceived: number,
  dislikesReceived: number
): Profile.ProfileCounts => ({ approvedConfessions, commentsWritten, likesReceived, dislikesReceived })

describe("Profile", () => {
  const impact: ReadonlyArray<readonly [string, Profile.ProfileCounts, number]> = [
    ["a new user has none", counts(0, 0, 0, 0), 0],
    ["an approved confession is worth 10", counts(1, 0, 0, 0), 10],
    ["a comment is worth 2", counts(0, 1, 0, 0), 2],
    ["likes add and dislikes subtract one each", counts(0, 0, 5, 2), 3],
    ["all four together", counts(3, 4, 7, 5), 30 + 8 + 7 - 5],
    ["more dislikes than points clamps to 0", counts(0, 1, 0, 9), 0],
    ["dislikes exactly cancelling the rest give 0", counts(1, 0, 0, 10), 0]
  ]
  for (const [name, input, expected] of impact) {
    it(`impactPoints - ${name}`, () => {
      assert.strictEqual(Profile.impactPoints(input), expected)
    })
  }

  const acceptance: ReadonlyArray<readonly [string, number, number, string]> = [
    ["no reactions shows a dash", 0, 0, "—"],
    ["only likes is 100%", 4, 0, "100%"],
    ["only dislikes is 0%", 0, 3, "0%"],
    ["two of three rounds to 67%", 2, 1, "67%"],
    ["one of three rounds to 33%", 1, 2, "33%"],
    ["a half is 50%", 5, 5, "50%"],
    ["one of eight (12.5%) rounds half up to 13%", 1, 7, "13%"]
  ]
  for (const [name, likes, dislikes, expected] of acceptance) {
    it(`acceptanceScore - ${name}`, () => {
      assert.strictEqual(Profile.acceptanceScore(counts(0, 0, likes, dislikes)), expected)
    })
  }
})
