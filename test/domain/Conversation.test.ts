import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import * as Conversation from "../../src/domain/Conversation.ts"
import { CommentId, ConfessionId } from "../../src/domain/Ids.ts"

const all: ReadonlyArray<[string, Conversation.Conversation]> = [
  ["AwaitingConfession", Conversation.awaitingConfession],
  ["ConfessionPreview", Conversation.confessionPreview("I ate the <b>last</b> \"pizza\" & ran 🍕", false)],
  ["AwaitingComment", Conversation.awaitingComment(ConfessionId.make(7))],
  ["AwaitingReply", Conversation.awaitingReply(ConfessionId.make(7), CommentId.make(12))],
  ["AwaitingFeedback", Conversation.awaitingFeedback],
  ["AwaitingRejectReason", Conversation.awaitingRejectReason(ConfessionId.make(9_007_199_254_740_991))]
]

describe("Conversation", () => {
  it("constructors - carry their tag and fields", () => {
    assert.deepStrictEqual(Conversation.confessionPreview("hi", true), { _tag: "ConfessionPreview", text: "hi", anonymous: true })
    assert.deepStrictEqual(Conversation.awaitingReply(ConfessionId.make(1), CommentId.make(2)), {
      _tag: "AwaitingReply",
      confessionId: 1,
      commentId: 2
    })
    assert.deepStrictEqual(Conversation.awaitingConfession, { _tag: "AwaitingConfession" })
    assert.deepStrictEqual(all.map(([tag, state]) => [tag, state._tag]), all.map(([tag]) => [tag, tag]))
  })

  it("toJson - writes the documented JSON shape", () => {
    assert.strictEqual(
      Conversation.toJson(Conversation.awaitingReply(ConfessionId.make(7), CommentId.make(12))),
      '{"_tag":"AwaitingReply","confessionId":7,"commentId":12}'
    )
    assert.strictEqual(Conversation.toJson(Conversation.awaitingFeedback), '{"_tag":"AwaitingFeedback"}')
  })

  it.effect.each(all)("fromJson - round trips %s", ([, state]) =>
    Effect.gen(function* () {
      const decoded = yield* Conversation.fromJson(Conversation.toJson(state))
      assert.deepStrictEqual(decoded, state)
      assert.isTrue(Schema.is(Conversation.Conversation)(decoded))
    }))

  it.effect.each([
    ["not JSON", "{"],
    ["unknown tag", '{"_tag":"AwaitingPayment"}'],
    ["missing field", '{"_tag":"AwaitingReply","confessionId":7}'],
    ["zero id", '{"_tag":"AwaitingComment","confessionId":0}'],
    ["negative id", '{"_tag":"AwaitingComment","confessionId":-3}'],
    ["fractional id", '{"_tag":"AwaitingRejectReason","confessionId":1.5}'],
    ["id as string", '{"_tag":"AwaitingComment","confessionId":"7"}'],
    ["text not a string", '{"_tag":"ConfessionPreview","text":5,"anonymous":true}'],
    ["anonymous missing", '{"_tag":"ConfessionPreview","text":"hi"}'],
    ["not an object", "[1,2]"]
  ])("fromJson - rejects %s", ([, json]) =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(Conversation.fromJson(json))
      assert.isTrue(Exit.isFailure(exit))
    }))

  it("guards - tell the cases apart", () => {
    const preview = Conversation.confessionPreview("x", true)
    assert.isTrue(Conversation.Conversation.guards.ConfessionPreview(preview))
    assert.isFalse(Conversation.Conversation.guards.AwaitingConfession(preview))
    assert.isTrue(Conversation.Conversation.isAnyOf(["AwaitingComment", "AwaitingReply"])(
      Conversation.awaitingComment(ConfessionId.make(3))
    ))
  })
})
