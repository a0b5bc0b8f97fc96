import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { CommentId, ConfessionId, FeedbackId } from "../../src/domain/Ids.ts"

const maxId = Number.MAX_SAFE_INTEGER
const confessionId = ConfessionId.make(maxId)
const commentId = CommentId.make(maxId)
const feedbackId = FeedbackId.make(maxId)
const page = maxId

// One example per action with every number at its largest; the mapped type makes this list exhaustive.
const examples: { readonly [K in CallbackData.Tag]: CallbackData.Of<K> } = {
  PreviewSubmit: CallbackData.PreviewSubmit(),
  PreviewToggleAnonymous: CallbackData.PreviewToggleAnonymous(),
  PreviewCancel: CallbackData.PreviewCancel(),
  PreviewEdit: CallbackData.PreviewEdit(),
  CommentPost: CallbackData.CommentPost(),
  CommentEdit: CallbackData.CommentEdit(),
  Approve: CallbackData.Approve({ confessionId }),
  Reject: CallbackData.Reject({ confessionId }),
  PendingPage: CallbackData.PendingPage({ page }),
  CommentsPage: CallbackData.CommentsPage({ confessionId, page }),
  AddComment: CallbackData.AddComment({ confessionId }),
  Like: CallbackData.Like({ commentId }),
  Dislike: CallbackData.Dislike({ commentId }),
  Report: CallbackData.Report({ commentId }),
  Reply: CallbackData.Reply({ commentId }),
  RepliesPage: CallbackData.RepliesPage({ commentId, page }),
  HideComment: CallbackData.HideComment({ commentId }),
  KeepComment: CallbackData.KeepComment({ commentId }),
  MyConfessionsPage: CallbackData.MyConfessionsPage({ page }),
  MyCommentsPage: CallbackData.MyCommentsPage({ page }),
  ToggleAnonymity: CallbackData.ToggleAnonymity(),
  FeedbackResolve: CallbackData.FeedbackResolve({ feedbackId }),
  FeedbackReply: CallbackData.FeedbackReply({ feedbackId }),
  FeedbackPage: CallbackData.FeedbackPage({ page }),
  ReportsPage: CallbackData.ReportsPage({ page }),
  Noop: CallbackData.Noop(),
  ForgetKeepPosts: CallbackData.ForgetKeepPosts(),
  ForgetDeletePosts: CallbackData.ForgetDeletePosts(),
  ForgetCancel: CallbackData.ForgetCancel()
}
const allExamples: ReadonlyArray<CallbackData.CallbackData> = Object.values(examples)

const bytes = (text: string) => new TextEncoder().encode(text).length

describe("CallbackData", () => {
  it("tags - lists every action exactly once", () => {
    assert.deepStrictEqual([...CallbackData.tags].sort(), Object.keys(examples).sort())
    assert.strictEqual(new Set(CallbackData.tags).size, 29)
  })

  it("toString/fromString - round trip for every action with maximal ids and pages, within 64 bytes", () => {
    for (const action of allExamples) {
      const encoded = CallbackData.toString(action)
      assert.isAtMost(bytes(encoded), CallbackData.maxBytes, encoded)
      assert.deepStrictEqual(CallbackData.fromString(encoded), Option.some(action), encoded)
    }
  })

  it("toString/fromString - round trip for small and boundary numbers", () => {
    for (const n of [1, 9, 10, 99, 100, 2 ** 31, 2 ** 32 + 1, maxId - 1]) {
      const action = CallbackData.CommentsPage({ confessionId: ConfessionId.make(n), page: n })
      assert.deepStrictEqual(CallbackData.fromString(CallbackData.toString(action)), Option.some(action))
    }
  })

  it("toString - every action has its own code", () => {
    const codes = allExamples.map((action) => CallbackData.toString(action).split(":")[1])
    assert.strictEqual(new Set(codes).size, allExamples.length)
  })

  it("toString - pins the wire format of buttons already on screen", () => {
    assert.strictEqual(CallbackData.toString(CallbackData.Approve({ confessionId: ConfessionId.make(123) })), "1:ap:123")
    assert.strictEqual(
      CallbackData.toString(CallbackData.CommentsPage({ confessionId: ConfessionId.make(42), page: 3 })),
      "1:cp:42:3"
    )
    assert.strictEqual(CallbackData.toString(CallbackData.Noop()), "1:no")
    assert.strictEqual(CallbackData.toString(CallbackData.PreviewSubmit()), "1:ps")
  })

  it("fromString - decodes into the variant a handler matches on", () => {
    const decoded = CallbackData.fromString("1:rl:7:2")
    assert.deepStrictEqual(decoded, Option.some(CallbackData.RepliesPage({ commentId: CommentId.make(7), page: 2 })))
    const described = Option.map(decoded, CallbackData.$match({
      RepliesPage: ({ commentId, page }) => `replies of ${commentId}, page ${page}`,
      PreviewSubmit: () => "",
      PreviewToggleAnonymous: () => "",
      PreviewCancel: () => "",
      PreviewEdit: () => "",
      CommentPost: () => "",
      CommentEdit: () => "",
      Approve: () => "",
      Reject: () => "",
      PendingPage: () => "",
      CommentsPage: () => "",
      AddComment: () => "",
      Like: () => "",
      Dislike: () => "",
      Report: () => "",
      Reply: () => "",
      HideComment: () => "",
      KeepComment: () => "",
      MyConfessionsPage: () => "",
      MyCommentsPage: () => "",
      ToggleAnonymity: () => "",
      FeedbackResolve: () => "",
      FeedbackReply: () => "",
      FeedbackPage: () => "",
      ReportsPage: () => "",
      Noop: () => "",
      ForgetKeepPosts: () => "",
      ForgetDeletePosts: () => "",
      ForgetCancel: () => ""
    }))
    assert.deepStrictEqual(described, Option.some("replies of 7, page 2"))
  })

  const forged: ReadonlyArray<readonly [string, string]> = [
    ["empty", ""],
    ["version only", "1"],
    ["version and separator", "1:"],
    ["unknown version", "2:ap:1"],
    ["version zero", "0:ap:1"],
    ["version with leading zero", "01:ap:1"],
    ["missing version", ":ap:1"],
    ["unknown action", "1:zz:1"],
    ["action in upper case", "1:AP:1"],
    ["tag instead of code", "1:Approve:1"],
    ["prototype key as code", "1:__proto__:1"],
    ["prototype key as code, no fields", "1:constructor"],
    ["missing field", "1:ap"],
    ["empty field", "1:ap:"],
    ["too many fields", "1:ap:1:2"],
    ["field on a field-less action", "1:ps:1"],
    ["trailing separator on a field-less action", "1:ps:"],
    ["one of two fields", "1:cp:1"],
    ["double separator", "1::ap:1"],
    ["double separator between fields", "1:cp:1::2"],
    ["trailing separator", "1:ap:1:"],
    ["negative", "1:ap:-1"],
    ["explicit plus", "1:ap:+1"],
    ["zero id", "1:ap:0"],
    ["zero page", "1:pp:0"],
    ["zero page after an id", "1:cp:5:0"],
    ["leading zero", "1:ap:01"],
    ["double zero", "1:ap:00"],
    ["leading space", "1:ap: 1"],
    ["trailing space", "1:ap:1 "],
    ["space before version", " 1:ap:1"],
    ["trailing newline", "1:ap:1\n"],
    ["NUL byte", "1:ap:1\u0000"],
    ["decimal", "1:ap:1.0"],
    ["exponent", "1:ap:1e3"],
    ["hexadecimal", "1:ap:0x10"],
    ["letters", "1:ap:abc"],
    ["Arabic-Indic digit", "1:ap:\u0661"],
    ["full-width digit", "1:ap:\uFF11"],
    ["just above MAX_SAFE_INTEGER", "1:ap:9007199254740992"],
    ["seventeen digits", "1:ap:10000000000000000"],
    ["huge", `1:ap:${"9".repeat(50)}`],
    ["Infinity", "1:ap:Infinity"],
    ["NaN", "1:ap:NaN"],
    ["longer than 64 bytes", `1:ap:1${":".repeat(60)}`],
    ["JSON instead of the compact form", '{"_tag":"Approve","confessionId":1}']
  ]

  it("fromString - rejects forged and malformed data", () => {
    for (const [reason, raw] of forged) {
      assert.isTrue(Option.isNone(CallbackData.fromString(raw)), `${reason}: ${JSON.stringify(raw)}`)
    }
  })

  it("fromString - accepts the largest id and the forged table's nearest valid neighbours", () => {
    // Guards the table above: each rejection must come from the defect it names, not from a broken decoder.
    for (const raw of ["1:ap:1", "1:ap:9007199254740991", "1:ps", "1:cp:1:2", "1:pp:1", "1:no"]) {
      assert.isTrue(Option.isSome(CallbackData.fromString(raw)), raw)
    }
  })
})
