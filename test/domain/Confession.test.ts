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
import { ConfessionId } from "../../src/domain/Ids.ts"
import { Empty, TooLong, validateText } from "../../src/domain/Validation.ts"
// The view is the oracle for "posted whole": the frame counted here must be the one channelPost really adds.
import * as ConfessionViews from "../../src/views/ConfessionViews.ts"
import * as Html from "../../src/views/Html.ts"

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

  it("longestPostText - the longest accepted text is posted whole under the longest header and author line", () => {
    const longest = longestPostText(messageLimit)
    const id = ConfessionId.make(Number.MAX_SAFE_INTEGER)
    // Every kind of character that could cost more than it seems: escaped, two units, plain.
    const texts = ["a", "&", "<", "😀"].map((unit) => unit.repeat(Math.floor(longest / unit.length)).padEnd(longest, "a"))
    for (const text of texts) {
      // What validation accepts at this limit is exactly what the post must show.
      assert.deepStrictEqual(validateText(text, longest), Result.succeed(text))
      const post = ConfessionViews.channelPost(
        {
          id,
          text,
          anonymous: false,
          authorFirstName: "&".repeat(firstNameMaxLength),
          authorUsername: "u".repeat(usernameMaxLength)
        },
        "https://t.me/bot?start=c1"
      )
      assert.include(post.text, `\n\n${Html.escape(text)}\n\n— `, text.slice(0, 4))
      assert.strictEqual(Html.visibleLength(post.text), messageLimit, text.slice(0, 4))
    }
    // One unit more and the same post must be cut: the frame is counted exactly, not generously.
    const tooLong = ConfessionViews.channelPost(
      {
        id,
        text: "a".repeat(longest + 1),
        anonymous: false,
        authorFirstName: "N".repeat(firstNameMaxLength),
        authorUsername: "u".repeat(usernameMaxLength)
      },
      "https://t.me/bot?start=c1"
    )
    assert.notInclude(tooLong.text, "a".repeat(longest + 1))
  })
})
