import { assert, describe, it } from "@effect/vitest"
import { Duration, Option } from "effect"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import type { PersonalExport } from "../../src/domain/PersonalData.ts"
import * as Html from "../../src/views/Html.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as PersonalDataViews from "../../src/views/PersonalDataViews.ts"

const at = new Date("2026-03-01T00:00:00.000Z")

const data: PersonalExport = {
  profile: {
    telegramId: 42,
    firstName: "Ann 👩‍🎓 <b>",
    lastName: null,
    username: null,
    anonymousDefault: true,
    blocked: false,
    inactive: false,
    createdAt: at,
    lastSeenAt: at
  },
  confessions: [],
  comments: [],
  reactions: [],
  reports: [],
  feedback: []
}

describe("PersonalDataViews", () => {
  it("myDataFile - mydata.json: what it is first, then the data, indented JSON in UTF-8 that parses back", () => {
    const file = PersonalDataViews.myDataFile(data, at)
    assert.strictEqual(file.fileName, "mydata.json")
    const text = new TextDecoder().decode(file.content)
    assert.isTrue(text.startsWith(`{\n  "about": ${JSON.stringify(Messages.myDataAbout)},\n  "exportedAt": "2026-03-01T00:00:00.000Z",`))
    assert.isTrue(text.endsWith("}\n"))
    const parsed = JSON.parse(text) as { profile: { firstName: string }; confessions: Array<unknown> }
    assert.strictEqual(parsed.profile.firstName, "Ann 👩‍🎓 <b>", "raw text, not HTML: a file is not a message")
    assert.deepStrictEqual(parsed.confessions, [])
  })

  it("forgetQuestion - three buttons that decode to the three choices, in this order", () => {
    const view = PersonalDataViews.forgetQuestion
    assert.strictEqual(view.text, Messages.forgetQuestion)
    const buttons = (view.keyboard?.inline_keyboard ?? []).flat()
    assert.deepStrictEqual(
      buttons.map((button) => button.text),
      [Messages.forgetKeepPostsLabel, Messages.forgetDeletePostsLabel, Messages.forgetCancelLabel]
    )
    assert.deepStrictEqual(
      buttons.map((button) => ("callback_data" in button ? CallbackData.fromString(button.callback_data) : Option.none())),
      [
        Option.some(CallbackData.ForgetKeepPosts()),
        Option.some(CallbackData.ForgetDeletePosts()),
        Option.some(CallbackData.ForgetCancel())
      ]
    )
  })

  it("texts - within Telegram's limit and balanced HTML", () => {
    for (const text of [
      Messages.forgetQuestion,
      Messages.forgotten(true),
      Messages.forgotten(false),
      Messages.forgetCancelled,
      Messages.forgetAdmin,
      Messages.forgetBlocked,
      Messages.myDataCaption,
      Messages.withdrawnCopy("confession", Number.MAX_SAFE_INTEGER)
    ]) {
      assert.isAtMost(Html.visibleLength(text), 1024, text)
      assert.strictEqual((text.match(/<b>/g) ?? []).length, (text.match(/<\/b>/g) ?? []).length, text)
    }
    assert.notStrictEqual(Messages.forgotten(true), Messages.forgotten(false))
    assert.strictEqual(Messages.withdrawnCopy("feedback", 4), "🗑 Feedback #4 was withdrawn.")
    assert.strictEqual(Messages.withdrawnCopy("comment", 5), "🗑 Reported comment #5 was withdrawn.")
    assert.strictEqual(Messages.myDataTooSoon(Duration.minutes(12)), "⏳ You can ask for your data once an hour. Try again in 12 minutes.")
  })
})
