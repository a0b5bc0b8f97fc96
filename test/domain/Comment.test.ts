import { assert, describe, it } from "@effect/vitest"
import * as Comment from "../../src/domain/Comment.ts"
import { UserId } from "../../src/domain/Ids.ts"

describe("Comment", () => {
  it("isAuthorTag - only the confession's own author gets the tag", () => {
    assert.isTrue(Comment.isAuthorTag(UserId.make(7), UserId.make(7)))
    assert.isFalse(Comment.isAuthorTag(UserId.make(7), UserId.make(8)))
  })
})
