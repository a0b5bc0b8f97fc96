import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import {
  authorLine,
  authorLineMaxLength,
  canTransition,
  captionLimit,
  firstNameMaxLength,
  isDecided,
  longestPostText,
  messageLimit,
  postFrameMaxLength,
  rejectReasonMaxLength,
  type Status,
  usernameMaxLength,
  validateRejectReason
} from "../../src/domain/Confession.ts"
import { Empty, TooLong } from "../../src/domain/Validation.ts"

const statuses: ReadonlyArray<Status> = ["pending", "approved", "rejected", "deleted"]

describe("Confession", () => {
  it("canTransition - the full table", () => {
    const allowed = new Set([
      "pending>approved",
      "pending>rejected",
      "pending>deleted",
      "approved>deleted",
      "rejected>deleted"
    ])
    for (const from of statuses) {
      for (const to of statuses) {
        assert.strictEqual(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} -> ${to}`)
      }
    }
  })

  it("canTransition - nothing returns to pending and deleted is final", () => {
    for (const from of statuses) {
      assert.isFalse(canTransition(from, "pending"))
      assert.isFalse(canTransition("deleted", from))
    }
  })

  it("isDecided - only pending is undecided", () => {
    assert.deepStrictEqual(statuses.map(isDecided), [false, true, true, true])
  })

  it("authorLine - anonymous, name with username, name only", () => {
    const cases: ReadonlyArray<readonly [Parameters<typeof authorLine>[0], string]> = [
      [{ anonymous: true, firstName: "Ann", username: "ann" }, "Anonymous"],
      [{ anonymous: false, firstName: "Ann", username: "ann" }, "Ann @ann"],
      [{ anonymous: false, firstName: "Ann", username: null }, "Ann"],
      [{ anonymous: false, firstName: "Ann", username: undefined }, "Ann"],
      [{ anonymous: false, firstName: "Ann", username: "" }, "Ann"],
      [{ anonymous: false, firstName: " Ann ", username: "@ann" }, "Ann @ann"],
      [{ anonymous: false, firstName: "", username: "ann" }, "@ann"],
      [{ anonymous: false, firstName: "  ", username: null }, "Anonymous"]
    ]
    for (const [author, expected] of cases) assert.strictEqual(authorLine(author), expected, JSON.stringify(author))
  })

  it("validateRejectReason - trimmed, not blank, at most 500 characters", () => {
    assert.strictEqual(rejectReasonMaxLength, 500)
    assert.deepStrictEqual(validateRejectReason("  spam  "), Result.succeed("spam"))
    assert.deepStrictEqual(validateRejectReason(" \n "), Result.fail(new Empty()))
    assert.deepStrictEqual(validateRejectReason("x".repeat(500)), Result.succeed("x".repeat(500)))
    assert.deepStrictEqual(
      validateRejectReason("x".repeat(501)),
      Result.fail(new TooLong({ length: 501, maxLength: 500 }))
    )
  })

  it("longestPostText - the limit minus the worst-case frame, never negative", () => {
    assert.strictEqual(authorLineMaxLength, firstNameMaxLength + 2 + usernameMaxLength)
    assert.strictEqual(postFrameMaxLength, "#9007199254740991\n\n".length + "\n\n— ".length + authorLineMaxLength)
    const cases: ReadonlyArray<readonly [number, number]> = [
      [messageLimit, 4096 - 345],
      [captionLimit, 1024 - 345],
      [postFrameMaxLength, 0],
      [100, 0],
      [0, 0],
      [4096.9, 4096 - 345]
    ]
    for (const [limit, expected] of cases) assert.strictEqual(longestPostText(limit), expected, String(limit))
  })
})
