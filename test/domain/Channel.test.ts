import { assert, describe, it } from "@effect/vitest"
import * as Channel from "../../src/domain/Channel.ts"

describe("Channel", () => {
  it("chatId - numbers for numeric ids, the @name as is", () => {
    assert.strictEqual(Channel.chatId("-1001234567890"), -1001234567890)
    assert.strictEqual(Channel.chatId(" -1001234567890 "), -1001234567890)
    assert.strictEqual(Channel.chatId("@campus_confessions"), "@campus_confessions")
  })

  it("postUrl - t.me/c/<id without -100>/<message> or t.me/<name>/<message>; no link for other ids", () => {
    assert.strictEqual(Channel.postUrl("-1001234567890", 55), "https://t.me/c/1234567890/55")
    assert.strictEqual(Channel.postUrl("@campus_confessions", 7), "https://t.me/campus_confessions/7")
    assert.isUndefined(Channel.postUrl("-4567", 7))
    assert.isUndefined(Channel.postUrl("campus", 7))
  })
})
