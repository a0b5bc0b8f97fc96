import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as DeepLink from "../../src/domain/DeepLink.ts"
import { ConfessionId } from "../../src/domain/Ids.ts"

describe("DeepLink", () => {
  it("toPayload/fromPayload - round trip from 1 to MAX_SAFE_INTEGER, payload within Telegram's pattern", () => {
    for (const n of [1, 7, 10, 123, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      const link = DeepLink.OpenComments(ConfessionId.make(n))
      const payload = DeepLink.toPayload(link)
      assert.strictEqual(payload, `c${n}`)
      assert.match(payload, /^[A-Za-z0-9_-]{1,64}$/)
      assert.deepStrictEqual(DeepLink.fromPayload(payload), Option.some(link))
    }
  })

  it("fromPayload - yields the confession to open", () => {
    assert.deepStrictEqual(
      DeepLink.fromPayload("c42"),
      Option.some({ _tag: "OpenComments", confessionId: ConfessionId.make(42) })
    )
  })

  it("fromPayload - rejects everything else", () => {
    const rejected: ReadonlyArray<readonly [string, string]> = [
      ["empty", ""],
      ["prefix only", "c"],
      ["zero", "c0"],
      ["leading zero", "c01"],
      ["negative", "c-1"],
      ["decimal", "c1.5"],
      ["upper-case prefix", "C1"],
      ["unknown prefix", "m1"],
      ["no prefix", "42"],
      ["space", "c 1"],
      ["trailing newline", "c1\n"],
      ["trailing junk", "c1c"],
      ["underscore", "c1_2"],
      ["full-width digit", "c\uFF11"],
      ["above MAX_SAFE_INTEGER", "c9007199254740992"],
      ["64 characters but a huge number", `c${"9".repeat(63)}`],
      ["65 characters", `c${"1".repeat(64)}`],
      ["a word", "comments"],
      ["percent-encoded", "c%31"],
      ["URL", "https://t.me/x?start=c1"]
    ]
    for (const [reason, payload] of rejected) {
      assert.isTrue(Option.isNone(DeepLink.fromPayload(payload)), `${reason}: ${JSON.stringify(payload)}`)
    }
  })

  it("toStartUrl - builds the t.me link the channel post's button uses", () => {
    const link = DeepLink.OpenComments(ConfessionId.make(123))
    assert.strictEqual(DeepLink.toStartUrl("confess_bot", link), "https://t.me/confess_bot?start=c123")
    assert.strictEqual(DeepLink.toStartUrl("@confess_bot", link), "https://t.me/confess_bot?start=c123")
  })
})
