import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as ContentRef from "../../src/domain/ContentRef.ts"
import { CommentId, ConfessionId } from "../../src/domain/Ids.ts"

const junk = ["", " ", "#", "0", "-3", "+3", "007", "1.5", "1e3", "abc", "1 2", "9007199254740992", "\uFF11", "12a"]

describe("ContentRef", () => {
  it("positiveInt - plain decimal positive safe integers only", () => {
    assert.strictEqual(ContentRef.positiveInt("1"), 1)
    assert.strictEqual(ContentRef.positiveInt(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
    for (const text of [...junk, undefined]) assert.isUndefined(ContentRef.positiveInt(text), String(text))
  })

  it("confession - `42` and `#42`, spaces around allowed; junk is None", () => {
    assert.deepStrictEqual(ContentRef.confession("42"), Option.some(ConfessionId.make(42)))
    assert.deepStrictEqual(ContentRef.confession(" #42 "), Option.some(ConfessionId.make(42)))
    for (const text of [...junk, "##4", "c42", "#-1"]) assert.isTrue(Option.isNone(ContentRef.confession(text)), text)
  })

  it("subject - `c42` and `m7` in either case; junk is None", () => {
    assert.deepStrictEqual(ContentRef.subject("c42"), Option.some({ kind: "confession", id: ConfessionId.make(42) }))
    assert.deepStrictEqual(ContentRef.subject(" M7 "), Option.some({ kind: "comment", id: CommentId.make(7) }))
    for (const text of [...junk, "c", "m0", "c-1", "x42", "42", "#42", "c 42", "cc42"]) {
      assert.isTrue(Option.isNone(ContentRef.subject(text)), text)
    }
  })

  it("subjectToString - reads back through subject", () => {
    for (const ref of [
      { kind: "confession", id: ConfessionId.make(1) },
      { kind: "comment", id: CommentId.make(Number.MAX_SAFE_INTEGER) }
    ] as const) {
      assert.deepStrictEqual(ContentRef.subject(ContentRef.subjectToString(ref)), Option.some(ref))
    }
  })
})
